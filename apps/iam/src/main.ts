import 'reflect-metadata';
import { pkcs11SealOptionsFrom } from '@sealbox/hsm';
import { IamAppConfig, IamModule, iamOptionsFrom, unsealIamSeal } from '@sealbox/iam';
import { ConfigError, DomainError, exitOnStartupError, loadConfig, runService, StartupError, StartupExitCode, SystemClock } from '@sealbox/platform';

// The seal of the iam master key is opened before the service starts (none in development with a clear key file).
let protector: Awaited<ReturnType<typeof unsealIamSeal>>;
try {
  const config = loadConfig(IamAppConfig);
  protector = await unsealIamSeal(config, new SystemClock(), pkcs11SealOptionsFrom(config));
} catch (error) {
  exitOnStartupError(
    error instanceof ConfigError
      ? error
      : new StartupError(
          StartupExitCode.CONFIG,
          `cannot unseal the iam master key: ${error instanceof DomainError ? `${error.code}: ` : ''}${error instanceof Error ? error.message : String(error)}`,
          'check SEALBOX_IAM_SEAL_DIRECTORY and its unseal secret (SEALBOX_SEAL_PKCS11_* or SEALBOX_UNSEAL_PASSPHRASE_FILE)',
        ),
    'sealbox iam',
  );
}
await runService({ service: 'iam', schema: IamAppConfig, module: (config) => IamModule.register(iamOptionsFrom(config, protector)) });
