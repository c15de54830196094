import { Controller } from '@nestjs/common';
import type { ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { RpcHandler, type RpcMeta } from '@sealbox/platform';
import { callerOf } from '../registry/rules.js';
import { LockService } from './lock.service.js';

/** `secrets.lock.*`: locks on secret versions, for the caller the gateway forwards. */
@Controller()
export class LocksRpcController {
  constructor(private readonly locks: LockService) {}

  @RpcHandler('secrets.lock.create')
  create(request: ValidatedRequestOf<'secrets.lock.create'>, meta: RpcMeta): Promise<ResponseOf<'secrets.lock.create'>> {
    return this.locks.create(callerOf(meta), request);
  }

  @RpcHandler('secrets.lock.delete')
  delete(request: ValidatedRequestOf<'secrets.lock.delete'>, meta: RpcMeta): Promise<ResponseOf<'secrets.lock.delete'>> {
    return this.locks.delete(callerOf(meta), request);
  }

  @RpcHandler('secrets.lock.list')
  list(request: ValidatedRequestOf<'secrets.lock.list'>, meta: RpcMeta): Promise<ResponseOf<'secrets.lock.list'>> {
    return this.locks.list(callerOf(meta), request);
  }

  @RpcHandler('secrets.lock.list-all')
  listAll(request: ValidatedRequestOf<'secrets.lock.list-all'>, meta: RpcMeta): Promise<ResponseOf<'secrets.lock.list-all'>> {
    return this.locks.listAll(callerOf(meta), request);
  }
}
