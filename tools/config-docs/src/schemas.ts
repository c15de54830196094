import type { AppName } from '@sealbox/contracts';
import { CryptoAppConfig } from '@sealbox/crypto';
import { GatewayAppConfig } from '@sealbox/gateway';
import { IamAppConfig } from '@sealbox/iam';
import { KmsAppConfig } from '@sealbox/kms';
import { LifecycleAppConfig } from '@sealbox/lifecycle';
import type { ConfigShape } from '@sealbox/platform';
import { SecretsAppConfig } from '@sealbox/secrets';
import { StorageAppConfig } from '@sealbox/storage';
import type { z } from 'zod';
import { StandaloneAppConfig } from '../../../apps/standalone/src/config.js';

/**
 * The config schema of every app (`apps/<name>`), keyed by the app registry of libs/contracts: a new
 * app does not compile here until its schema is listed, and then shows up in docs/configuration.md and
 * in the compose check.
 */
export const appConfigSchemas: Record<AppName, z.ZodObject<ConfigShape>> = {
  gateway: GatewayAppConfig,
  iam: IamAppConfig,
  kms: KmsAppConfig,
  crypto: CryptoAppConfig,
  storage: StorageAppConfig,
  secrets: SecretsAppConfig,
  lifecycle: LifecycleAppConfig,
  standalone: StandaloneAppConfig,
};
