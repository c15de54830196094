import 'reflect-metadata';
import { CryptoAppConfig, CryptoModule, cryptoOptionsFrom } from '@sealbox/crypto';
import { runService } from '@sealbox/platform';

await runService({ service: 'crypto', schema: CryptoAppConfig, module: (config) => CryptoModule.register(cryptoOptionsFrom(config)) });
