import { Controller } from '@nestjs/common';
import type { ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { DomainError, RpcHandler, type Caller, type RpcMeta } from '@sealbox/platform';
import { ImportTokenService } from '../services/import-token.service.js';
import { InstanceService } from '../services/instance.service.js';
import { KeyService } from '../services/key.service.js';
import { RegistrationService } from '../services/registration.service.js';
import { zero } from '../domain/binary.js';
import { WrapService } from '../services/wrap.service.js';
import { ciphertextFromWire, dekFromWire, toWire } from './wire-fields.js';

/** The Key Protect API is for authenticated users: the gateway forwards the caller, who owns the account scope. */
function callerOf(meta: RpcMeta): Caller {
  if (!meta.caller) throw new DomainError('UNAUTHORIZED', 'This operation needs an authenticated caller');
  return meta.caller;
}

const empty = {} as const;

type Req<S extends Parameters<typeof RpcHandler>[0]> = ValidatedRequestOf<S>;
type Res<S extends Parameters<typeof RpcHandler>[0]> = Promise<ResponseOf<S>>;

/** Key Protect v2 (`kms.api.*`): the gateway has checked the caller's IAM access; this checks tenancy and state. */
@Controller()
export class KmsApiController {
  constructor(
    private readonly keys: KeyService,
    private readonly wrapping: WrapService,
    private readonly importTokens: ImportTokenService,
    private readonly registrations: RegistrationService,
    private readonly instances: InstanceService,
  ) {}

  @RpcHandler('kms.api.key.create')
  create(request: Req<'kms.api.key.create'>, meta: RpcMeta): Res<'kms.api.key.create'> {
    return this.keys.create(callerOf(meta), request);
  }

  @RpcHandler('kms.api.key.list')
  list(request: Req<'kms.api.key.list'>, meta: RpcMeta): Res<'kms.api.key.list'> {
    return this.keys.list(callerOf(meta), request);
  }

  @RpcHandler('kms.api.key.count')
  count(request: Req<'kms.api.key.count'>, meta: RpcMeta): Res<'kms.api.key.count'> {
    return this.keys.count(callerOf(meta), request);
  }

  @RpcHandler('kms.api.key.get')
  get(request: Req<'kms.api.key.get'>, meta: RpcMeta): Res<'kms.api.key.get'> {
    return this.keys.get(callerOf(meta), request);
  }

  @RpcHandler('kms.api.key.metadata')
  metadata(request: Req<'kms.api.key.metadata'>, meta: RpcMeta): Res<'kms.api.key.metadata'> {
    return this.keys.metadata(callerOf(meta), request);
  }

  @RpcHandler('kms.api.key.wrap')
  async wrap(request: Req<'kms.api.key.wrap'>, meta: RpcMeta): Res<'kms.api.key.wrap'> {
    const caller = callerOf(meta);
    const { plaintext } = request;
    const dek = plaintext === undefined ? undefined : () => dekFromWire(plaintext);
    const wrapped = await this.wrapping.apiWrap(caller, { instanceId: request.instanceId, id: request.id, aad: request.aad ?? [], ...(dek ? { dek } : {}) });
    try {
      return {
        ciphertext: toWire(wrapped.ciphertext),
        ...(wrapped.generated ? { plaintext: toWire(wrapped.generated) } : {}),
        keyVersion: { id: wrapped.keyVersionId },
      };
    } finally {
      zero(wrapped.generated);
    }
  }

  @RpcHandler('kms.api.key.unwrap')
  async unwrap(request: Req<'kms.api.key.unwrap'>, meta: RpcMeta): Res<'kms.api.key.unwrap'> {
    const caller = callerOf(meta);
    const ciphertext = () => ciphertextFromWire(request.ciphertext);
    const unwrapped = await this.wrapping.apiUnwrap(caller, { instanceId: request.instanceId, id: request.id, ciphertext, aad: request.aad ?? [] });
    try {
      const { rewrapped } = unwrapped;
      return {
        plaintext: toWire(unwrapped.dek),
        keyVersion: { id: unwrapped.version.id },
        ...(rewrapped ? { rewrappedKeyVersion: { id: rewrapped.keyVersionId }, ciphertext: toWire(rewrapped.ciphertext) } : {}),
      };
    } finally {
      zero(unwrapped.dek);
    }
  }

  @RpcHandler('kms.api.key.rewrap')
  async rewrap(request: Req<'kms.api.key.rewrap'>, meta: RpcMeta): Res<'kms.api.key.rewrap'> {
    const caller = callerOf(meta);
    const ciphertext = () => ciphertextFromWire(request.ciphertext);
    const rewrapped = await this.wrapping.apiRewrap(caller, { instanceId: request.instanceId, id: request.id, ciphertext, aad: request.aad ?? [] });
    return { ciphertext: toWire(rewrapped.ciphertext), keyVersion: { id: rewrapped.from }, rewrappedKeyVersion: { id: rewrapped.keyVersionId } };
  }

  @RpcHandler('kms.api.key.rotate')
  async rotate(request: Req<'kms.api.key.rotate'>, meta: RpcMeta): Res<'kms.api.key.rotate'> {
    await this.keys.rotate(callerOf(meta), request);
    return empty;
  }

  @RpcHandler('kms.api.key.disable')
  async disable(request: Req<'kms.api.key.disable'>, meta: RpcMeta): Res<'kms.api.key.disable'> {
    await this.keys.disable(callerOf(meta), request);
    return empty;
  }

  @RpcHandler('kms.api.key.enable')
  async enable(request: Req<'kms.api.key.enable'>, meta: RpcMeta): Res<'kms.api.key.enable'> {
    await this.keys.enable(callerOf(meta), request);
    return empty;
  }

  @RpcHandler('kms.api.key.set-for-deletion')
  async setForDeletion(request: Req<'kms.api.key.set-for-deletion'>, meta: RpcMeta): Res<'kms.api.key.set-for-deletion'> {
    await this.keys.setForDeletion(callerOf(meta), request);
    return empty;
  }

  @RpcHandler('kms.api.key.unset-for-deletion')
  async unsetForDeletion(request: Req<'kms.api.key.unset-for-deletion'>, meta: RpcMeta): Res<'kms.api.key.unset-for-deletion'> {
    await this.keys.unsetForDeletion(callerOf(meta), request);
    return empty;
  }

  @RpcHandler('kms.api.key.delete')
  delete(request: Req<'kms.api.key.delete'>, meta: RpcMeta): Res<'kms.api.key.delete'> {
    return this.keys.delete(callerOf(meta), request);
  }

  @RpcHandler('kms.api.key.restore')
  restore(request: Req<'kms.api.key.restore'>, meta: RpcMeta): Res<'kms.api.key.restore'> {
    return this.keys.restore(callerOf(meta), request);
  }

  @RpcHandler('kms.api.key.purge')
  purge(request: Req<'kms.api.key.purge'>, meta: RpcMeta): Res<'kms.api.key.purge'> {
    return this.keys.purge(callerOf(meta), request);
  }

  @RpcHandler('kms.api.key.versions')
  versions(request: Req<'kms.api.key.versions'>, meta: RpcMeta): Res<'kms.api.key.versions'> {
    return this.keys.versions(callerOf(meta), request);
  }

  @RpcHandler('kms.api.key.alias.create')
  createAlias(request: Req<'kms.api.key.alias.create'>, meta: RpcMeta): Res<'kms.api.key.alias.create'> {
    return this.keys.createAlias(callerOf(meta), request);
  }

  @RpcHandler('kms.api.key.alias.delete')
  async deleteAlias(request: Req<'kms.api.key.alias.delete'>, meta: RpcMeta): Res<'kms.api.key.alias.delete'> {
    await this.keys.deleteAlias(callerOf(meta), request);
    return empty;
  }

  @RpcHandler('kms.api.key.policy.get')
  getPolicies(request: Req<'kms.api.key.policy.get'>, meta: RpcMeta): Res<'kms.api.key.policy.get'> {
    return this.keys.getPolicies(callerOf(meta), request);
  }

  @RpcHandler('kms.api.key.policy.put')
  putPolicies(request: Req<'kms.api.key.policy.put'>, meta: RpcMeta): Res<'kms.api.key.policy.put'> {
    return this.keys.putPolicies(callerOf(meta), request);
  }

  @RpcHandler('kms.api.registration.list')
  registrationsOf(request: Req<'kms.api.registration.list'>, meta: RpcMeta): Res<'kms.api.registration.list'> {
    return this.registrations.list(callerOf(meta), request);
  }

  @RpcHandler('kms.api.import-token.create')
  createImportToken(request: Req<'kms.api.import-token.create'>, meta: RpcMeta): Res<'kms.api.import-token.create'> {
    return this.importTokens.create(callerOf(meta), request);
  }

  @RpcHandler('kms.api.import-token.get')
  getImportToken(request: Req<'kms.api.import-token.get'>, meta: RpcMeta): Res<'kms.api.import-token.get'> {
    return this.importTokens.retrieve(callerOf(meta), request.instanceId);
  }

  @RpcHandler('kms.api.master-key.get')
  masterKey(request: Req<'kms.api.master-key.get'>, meta: RpcMeta): Res<'kms.api.master-key.get'> {
    return this.instances.masterKey(callerOf(meta), request.instanceId);
  }

  @RpcHandler('kms.api.master-key.load-part')
  loadMasterKeyPart(request: Req<'kms.api.master-key.load-part'>, meta: RpcMeta): Res<'kms.api.master-key.load-part'> {
    return this.instances.loadMasterKeyPart(callerOf(meta), request.instanceId, request.part);
  }

  @RpcHandler('kms.api.master-key.zeroize')
  zeroizeMasterKey(request: Req<'kms.api.master-key.zeroize'>, meta: RpcMeta): Res<'kms.api.master-key.zeroize'> {
    return this.instances.zeroizeMasterKey(callerOf(meta), request.instanceId);
  }
}
