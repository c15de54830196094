import { Controller } from '@nestjs/common';
import type { ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { RpcHandler, type RpcMeta } from '@sealbox/platform';
import { callerOf } from '../../../registry/rules.js';
import { PrivateCertEngine } from './engine.js';

/** `secrets.configuration.*`: the private_cert engine's CAs and templates (for the caller the gateway forwards), and the public CRLs. */
@Controller()
export class ConfigurationsRpcController {
  constructor(private readonly engine: PrivateCertEngine) {}

  @RpcHandler('secrets.configuration.create')
  create(request: ValidatedRequestOf<'secrets.configuration.create'>, meta: RpcMeta): Promise<ResponseOf<'secrets.configuration.create'>> {
    return this.engine.create(callerOf(meta), request);
  }

  @RpcHandler('secrets.configuration.list')
  list(request: ValidatedRequestOf<'secrets.configuration.list'>, meta: RpcMeta): Promise<ResponseOf<'secrets.configuration.list'>> {
    return this.engine.list(callerOf(meta), request);
  }

  @RpcHandler('secrets.configuration.get')
  get(request: ValidatedRequestOf<'secrets.configuration.get'>, meta: RpcMeta): Promise<ResponseOf<'secrets.configuration.get'>> {
    return this.engine.get(callerOf(meta), request);
  }

  @RpcHandler('secrets.configuration.update')
  update(request: ValidatedRequestOf<'secrets.configuration.update'>, meta: RpcMeta): Promise<ResponseOf<'secrets.configuration.update'>> {
    return this.engine.update(callerOf(meta), request);
  }

  @RpcHandler('secrets.configuration.delete')
  delete(request: ValidatedRequestOf<'secrets.configuration.delete'>, meta: RpcMeta): Promise<ResponseOf<'secrets.configuration.delete'>> {
    return this.engine.delete(callerOf(meta), request);
  }

  @RpcHandler('secrets.configuration.action')
  action(request: ValidatedRequestOf<'secrets.configuration.action'>, meta: RpcMeta): Promise<ResponseOf<'secrets.configuration.action'>> {
    return this.engine.action(callerOf(meta), request);
  }

  @RpcHandler('secrets.configuration.crl')
  crl(request: ValidatedRequestOf<'secrets.configuration.crl'>): Promise<ResponseOf<'secrets.configuration.crl'>> {
    return this.engine.crl(request);
  }
}
