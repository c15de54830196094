import { DatabaseSettings, ServiceSettings } from '@sealbox/platform';
import { z } from 'zod';
import type { LifecycleModuleOptions } from './lifecycle.module.js';

/** Configuration of apps/lifecycle. */
export const LifecycleAppConfig = z.object({
  ...ServiceSettings,
  ...DatabaseSettings,
});
export type LifecycleAppConfig = z.output<typeof LifecycleAppConfig>;

export function lifecycleOptionsFrom(config: LifecycleAppConfig): LifecycleModuleOptions {
  return { database: { type: 'postgres', url: config.SEALBOX_DATABASE_URL } };
}
