import { DatabaseSettings, ServiceSettings } from '@sealbox/platform';
import { z } from 'zod';
import type { SecretsModuleOptions } from './secrets.module.js';

/** Configuration of apps/secrets. */
export const SecretsAppConfig = z.object({
  ...ServiceSettings,
  ...DatabaseSettings,
});
export type SecretsAppConfig = z.output<typeof SecretsAppConfig>;

export function secretsOptionsFrom(config: SecretsAppConfig): SecretsModuleOptions {
  return { database: { type: 'postgres', url: config.SEALBOX_DATABASE_URL } };
}
