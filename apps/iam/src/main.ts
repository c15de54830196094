import 'reflect-metadata';
import { IamAppConfig, IamModule, iamOptionsFrom } from '@sealbox/iam';
import { runService } from '@sealbox/platform';

await runService({ service: 'iam', schema: IamAppConfig, module: (config) => IamModule.register(iamOptionsFrom(config)) });
