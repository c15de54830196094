import { Controller } from '@nestjs/common';
import type { ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { RpcHandler, type RpcMeta } from '@sealbox/platform';
import { callerOf } from '../registry/rules.js';
import { InstancePurge } from './purge.service.js';
import { SecretActionService } from './secret-actions.js';
import { SecretService } from './secret.service.js';
import { VersionService } from './version.service.js';

/** `secrets.secret.*`, `secrets.version.*` (for the caller the gateway forwards) and `secrets.instance.purge` (lifecycle). */
@Controller()
export class SecretsApiController {
  constructor(
    private readonly secrets: SecretService,
    private readonly versions: VersionService,
    private readonly purgeService: InstancePurge,
    private readonly actions: SecretActionService,
  ) {}

  @RpcHandler('secrets.instance.purge')
  purge(request: ValidatedRequestOf<'secrets.instance.purge'>): Promise<ResponseOf<'secrets.instance.purge'>> {
    return this.purgeService.purge(request);
  }

  @RpcHandler('secrets.secret.create')
  create(request: ValidatedRequestOf<'secrets.secret.create'>, meta: RpcMeta): Promise<ResponseOf<'secrets.secret.create'>> {
    return this.secrets.create(callerOf(meta), request, meta.idempotency);
  }

  @RpcHandler('secrets.secret.get')
  get(request: ValidatedRequestOf<'secrets.secret.get'>, meta: RpcMeta): Promise<ResponseOf<'secrets.secret.get'>> {
    return this.secrets.get(callerOf(meta), request);
  }

  @RpcHandler('secrets.secret.get-by-name')
  getByName(request: ValidatedRequestOf<'secrets.secret.get-by-name'>, meta: RpcMeta): Promise<ResponseOf<'secrets.secret.get-by-name'>> {
    return this.secrets.getByName(callerOf(meta), request);
  }

  @RpcHandler('secrets.secret.list')
  list(request: ValidatedRequestOf<'secrets.secret.list'>, meta: RpcMeta): Promise<ResponseOf<'secrets.secret.list'>> {
    return this.secrets.list(callerOf(meta), request);
  }

  @RpcHandler('secrets.secret.metadata.get')
  getMetadata(request: ValidatedRequestOf<'secrets.secret.metadata.get'>, meta: RpcMeta): Promise<ResponseOf<'secrets.secret.metadata.get'>> {
    return this.secrets.getMetadata(callerOf(meta), request);
  }

  @RpcHandler('secrets.secret.metadata.update')
  updateMetadata(request: ValidatedRequestOf<'secrets.secret.metadata.update'>, meta: RpcMeta): Promise<ResponseOf<'secrets.secret.metadata.update'>> {
    return this.secrets.updateMetadata(callerOf(meta), request);
  }

  @RpcHandler('secrets.secret.delete')
  delete(request: ValidatedRequestOf<'secrets.secret.delete'>, meta: RpcMeta): Promise<ResponseOf<'secrets.secret.delete'>> {
    return this.secrets.delete(callerOf(meta), request);
  }

  @RpcHandler('secrets.secret.action')
  action(request: ValidatedRequestOf<'secrets.secret.action'>, meta: RpcMeta): Promise<ResponseOf<'secrets.secret.action'>> {
    return this.actions.create(callerOf(meta), request);
  }

  @RpcHandler('secrets.version.create')
  createVersion(request: ValidatedRequestOf<'secrets.version.create'>, meta: RpcMeta): Promise<ResponseOf<'secrets.version.create'>> {
    return this.versions.create(callerOf(meta), request, meta.idempotency);
  }

  @RpcHandler('secrets.version.list')
  listVersions(request: ValidatedRequestOf<'secrets.version.list'>, meta: RpcMeta): Promise<ResponseOf<'secrets.version.list'>> {
    return this.versions.list(callerOf(meta), request);
  }

  @RpcHandler('secrets.version.get')
  getVersion(request: ValidatedRequestOf<'secrets.version.get'>, meta: RpcMeta): Promise<ResponseOf<'secrets.version.get'>> {
    return this.versions.get(callerOf(meta), request);
  }

  @RpcHandler('secrets.version.metadata.get')
  getVersionMetadata(request: ValidatedRequestOf<'secrets.version.metadata.get'>, meta: RpcMeta): Promise<ResponseOf<'secrets.version.metadata.get'>> {
    return this.versions.getMetadata(callerOf(meta), request);
  }

  @RpcHandler('secrets.version.metadata.update')
  updateVersionMetadata(
    request: ValidatedRequestOf<'secrets.version.metadata.update'>,
    meta: RpcMeta,
  ): Promise<ResponseOf<'secrets.version.metadata.update'>> {
    return this.versions.updateMetadata(callerOf(meta), request);
  }

  @RpcHandler('secrets.version.data.delete')
  deleteVersionData(request: ValidatedRequestOf<'secrets.version.data.delete'>, meta: RpcMeta): Promise<ResponseOf<'secrets.version.data.delete'>> {
    return this.versions.deleteData(callerOf(meta), request);
  }
}
