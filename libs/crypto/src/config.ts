import { ServiceSettings } from '@sealbox/platform';
import { z } from 'zod';
import type { CryptoModuleOptions } from './crypto.module.js';

/** Configuration of apps/crypto. It keeps no state of its own, so it has no database. */
export const CryptoAppConfig = z.object({ ...ServiceSettings });
export type CryptoAppConfig = z.output<typeof CryptoAppConfig>;

export function cryptoOptionsFrom(_config: CryptoAppConfig): CryptoModuleOptions {
  return {};
}
