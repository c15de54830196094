import { CryptoSettings } from '@sealbox/crypto';
import { EdgeSettings } from '@sealbox/gateway';
import { IamSettings } from '@sealbox/iam';
import { KmsSettings } from '@sealbox/kms';
import { LifecycleSettings } from '@sealbox/lifecycle';
import { SecretsSettings } from '@sealbox/secrets';
import { DataDirSettings, HttpSettings, LogSettings, SealSettings, TracingSettings } from '@sealbox/platform';
import { z } from 'zod';

/** Configuration of apps/standalone (`npm start`): everything embedded under SEALBOX_DATA_DIR. */
export const StandaloneAppConfig = z.object({
  ...LogSettings,
  ...TracingSettings,
  ...HttpSettings,
  ...DataDirSettings,
  ...SealSettings,
  ...IamSettings,
  ...EdgeSettings,
  ...CryptoSettings,
  ...KmsSettings,
  ...LifecycleSettings,
  ...SecretsSettings,
  SEALBOX_RPC_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(5000)
    .describe('Deadline of one in-process request between modules; then 503 SERVICE_UNAVAILABLE'),
});
export type StandaloneAppConfig = z.output<typeof StandaloneAppConfig>;
