import 'reflect-metadata';
import { SecretsAppConfig, SecretsModule, secretsOptionsFrom } from '@sealbox/secrets';
import { runService } from '@sealbox/platform';

await runService({ service: 'secrets', schema: SecretsAppConfig, module: (config) => SecretsModule.register(secretsOptionsFrom(config)) });
