import 'reflect-metadata';
import { KmsAppConfig, KmsModule, kmsOptionsFrom, unsealKmsSoftHsm } from '@sealbox/kms';
import { ConfigError, DomainError, exitOnStartupError, loadConfig, runService, StartupError, StartupExitCode, SystemClock } from '@sealbox/platform';

// The soft backend's seal is opened before the service starts (the PKCS#11 backend has none).
let protector: Awaited<ReturnType<typeof unsealKmsSoftHsm>>;
try {
  protector = await unsealKmsSoftHsm(loadConfig(KmsAppConfig), new SystemClock());
} catch (error) {
  exitOnStartupError(
    error instanceof ConfigError
      ? error
      : new StartupError(
          StartupExitCode.CONFIG,
          `cannot unseal the soft HSM: ${error instanceof DomainError ? `${error.code}: ` : ''}${error instanceof Error ? error.message : String(error)}`,
          'check SEALBOX_UNSEAL_PASSPHRASE_FILE (0600, the passphrase of the first start) and SEALBOX_SOFT_HSM_DIRECTORY',
        ),
    'sealbox kms',
  );
}
await runService({ service: 'kms', schema: KmsAppConfig, module: (config) => KmsModule.register(kmsOptionsFrom(config, protector)) });
