import 'reflect-metadata';
import { LifecycleAppConfig, LifecycleModule, lifecycleOptionsFrom } from '@sealbox/lifecycle';
import { runService } from '@sealbox/platform';

await runService({ service: 'lifecycle', schema: LifecycleAppConfig, module: (config) => LifecycleModule.register(lifecycleOptionsFrom(config)) });
