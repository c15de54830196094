import 'reflect-metadata';
import { StorageAppConfig, StorageModule, storageOptionsFrom } from '@sealbox/storage';
import { runService } from '@sealbox/platform';

await runService({ service: 'storage', schema: StorageAppConfig, module: (config) => StorageModule.register(storageOptionsFrom(config)) });
