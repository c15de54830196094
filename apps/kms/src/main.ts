import 'reflect-metadata';
import { KmsAppConfig, KmsModule, kmsOptionsFrom } from '@sealbox/kms';
import { runService } from '@sealbox/platform';

await runService({ service: 'kms', schema: KmsAppConfig, module: (config) => KmsModule.register(kmsOptionsFrom(config)) });
