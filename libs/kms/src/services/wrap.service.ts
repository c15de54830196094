import { Injectable } from '@nestjs/common';
import { KmsWire, type ResponseOf, type ValidatedRequestOf } from '@sealbox/contracts';
import { MAX_DEK_BYTES } from '@sealbox/kms-plugins';
import { Clock, DomainError, notFound, type Caller } from '@sealbox/platform';
import { randomBytes } from 'node:crypto';
import { decodeBase64, zero } from '../domain/binary.js';
import { effectiveState, requireActive, requireUnwrappable } from '../domain/key-lifecycle.js';
import { rewrapDek, unwrapDek, wrapDek, type VersionRef, type WrappingKey } from '../domain/key-wrapping.js';
import { requireRootKey } from '../domain/standard-key.js';
import { ServiceAuthorizations } from '../authorization/service-authorizations.js';
import type { KeyEntity } from '../persistence/entities.js';
import { InstanceService } from './instance.service.js';
import { WrapTargets, type WrapTarget } from './wrap-targets.js';

/** Size of the data key generated when a wrap request has no plaintext. */
export const GENERATED_DEK_BYTES = 32;

/** A wrap target whose key exists. */
interface Target extends WrapTarget {
  readonly key: KeyEntity;
}

interface Unwrapped {
  /** The data key; the caller zeroes it. */
  readonly dek: Buffer;
  readonly version: VersionRef;
  /** The data key under the newest version, when the ciphertext was of an older one (and the key is active). */
  readonly rewrapped?: { readonly ciphertext: string; readonly keyVersionId: string };
}

/**
 * Wrap, unwrap and rewrap data keys with a root key (a standard key: 400 KEY_ROOT_REQ_ERR), for users (Key Protect API) and for other
 * services (`kms.key.*`, each call checked against an IAM service-to-service authorization). Both
 * produce the same ciphertext format (domain/ciphertext.ts), bound to instance, key, version and AAD.
 * Instance, key and versions come from `WrapTargets` (no database read per call; a replica's view is
 * at most `KMS_STATE_MAX_AGE_MS` old), authorizations from `ServiceAuthorizations` (as fresh).
 */
@Injectable()
export class WrapService {
  constructor(
    private readonly targets: WrapTargets,
    private readonly instances: InstanceService,
    private readonly authorizations: ServiceAuthorizations,
    private readonly clock: Clock,
  ) {}

  // ---- Key Protect API ----

  async apiWrap(caller: Caller, request: ValidatedRequestOf<'kms.api.key.wrap'>): Promise<KmsWire.WrapResponse> {
    const target = await this.userTarget(caller, request);
    this.requireWrappable(target);
    const generated = request.plaintext === undefined;
    const dek = generated ? randomBytes(GENERATED_DEK_BYTES) : decodeDek(request.plaintext ?? '');
    try {
      const wrapped = await this.wrap(target, dek, request.aad ?? []);
      return { ciphertext: wrapped.ciphertext, ...(generated ? { plaintext: dek.toString('base64') } : {}), keyVersion: { id: wrapped.keyVersionId } };
    } finally {
      zero(dek);
    }
  }

  async apiUnwrap(caller: Caller, request: ValidatedRequestOf<'kms.api.key.unwrap'>): Promise<KmsWire.UnwrapResponse> {
    const target = await this.userTarget(caller, request);
    const result = await this.unwrap(target, request.ciphertext, request.aad ?? []);
    try {
      return {
        plaintext: result.dek.toString('base64'),
        keyVersion: { id: result.version.id },
        ...(result.rewrapped ? { rewrappedKeyVersion: { id: result.rewrapped.keyVersionId }, ciphertext: result.rewrapped.ciphertext } : {}),
      };
    } finally {
      zero(result.dek);
    }
  }

  async apiRewrap(caller: Caller, request: ValidatedRequestOf<'kms.api.key.rewrap'>): Promise<KmsWire.RewrapResponse> {
    return this.rewrap(await this.userTarget(caller, request), request.ciphertext, request.aad ?? []);
  }

  // ---- other services ----

  async serviceWrap(request: ValidatedRequestOf<'kms.key.wrap'>): Promise<ResponseOf<'kms.key.wrap'>> {
    const target = await this.serviceTarget(request);
    this.requireWrappable(target);
    const dek = decodeDek(request.plaintext);
    try {
      const wrapped = await this.wrap(target, dek, request.aad);
      return { ciphertext: wrapped.ciphertext, keyVersion: { id: wrapped.keyVersionId } };
    } finally {
      zero(dek);
    }
  }

  async serviceUnwrap(request: ValidatedRequestOf<'kms.key.unwrap'>): Promise<ResponseOf<'kms.key.unwrap'>> {
    const target = await this.serviceTarget(request);
    const result = await this.unwrap(target, request.ciphertext, request.aad);
    try {
      return {
        plaintext: result.dek.toString('base64'),
        keyVersion: { id: result.version.id },
        ...(result.rewrapped ? { rewrapped: { ciphertext: result.rewrapped.ciphertext, keyVersion: { id: result.rewrapped.keyVersionId } } } : {}),
      };
    } finally {
      zero(result.dek);
    }
  }

  async serviceRewrap(request: ValidatedRequestOf<'kms.key.rewrap'>): Promise<ResponseOf<'kms.key.rewrap'>> {
    return this.rewrap(await this.serviceTarget(request), request.ciphertext, request.aad);
  }

  // ---- core ----

  private async userTarget(caller: Caller, request: { instanceId: string; id: string }): Promise<Target> {
    const target = await this.targets.find(caller.accountId, request.instanceId, request.id);
    if (!target.key) throw notFound(`Key ${request.id}`);
    requireRootKey(target.key, 'wrap, unwrap and rewrap');
    return { ...target, key: target.key };
  }

  /**
   * The instance must be of the calling service's account, and an IAM authorization must let the
   * calling instance use the key (checked before saying whether the key exists).
   */
  private async serviceTarget(request: ValidatedRequestOf<'kms.key.wrap'> | ValidatedRequestOf<'kms.key.unwrap'>): Promise<Target> {
    const { source, key: ref } = request;
    // A key of another account (provider-managed encryption) is named with its account; IAM decides whether the source may use it.
    const target = await this.targets.find(ref.accountId ?? source.accountId, ref.instanceId, ref.keyId);
    const { instance, key } = target;
    await this.authorizations.require(source, {
      accountId: instance.accountId,
      serviceName: instance.serviceName,
      serviceInstance: instance.id,
      resourceType: 'key',
      resource: key?.id ?? ref.keyId,
    });
    if (!key) throw notFound(`Key ${ref.keyId}`);
    requireRootKey(key, 'wrap, unwrap and rewrap');
    return { ...target, key };
  }

  /** The key as wrapping sees it (its versions from the wrap state). */
  private async wrappingKey(target: Target): Promise<WrappingKey> {
    const { instance, key } = target;
    const current = await target.version(key.currentVersionId);
    if (!current) throw new Error(`kms: key ${key.id} has no row for its current version`);
    return {
      instanceId: instance.id,
      keyId: key.id,
      provider: target.provider,
      context: target.context,
      current,
      version: async (id) => (await target.version(id)) ?? undefined,
    };
  }

  /** Wrapping needs an initialised instance and an active key (409 at once otherwise). */
  private requireWrappable(target: Target): void {
    this.instances.requireInitialized(target.instance);
    requireActive(target.key, this.clock.nowMs());
  }

  private async wrap(target: Target, dek: Buffer, aad: readonly string[]): Promise<{ ciphertext: string; keyVersionId: string }> {
    this.requireWrappable(target);
    return wrapDek(await this.wrappingKey(target), dek, aad);
  }

  /** Unwrap; a ciphertext of an older version comes back rewrapped under the newest (when the key is active). */
  private async unwrap(target: Target, ciphertext: string, aad: readonly string[]): Promise<Unwrapped> {
    const { instance, key } = target;
    this.instances.requireInitialized(instance);
    const now = this.clock.nowMs();
    requireUnwrappable(key, now);
    const wrapping = await this.wrappingKey(target);
    const { dek, version } = await unwrapDek(wrapping, ciphertext, aad);
    if (version.id === wrapping.current.id || effectiveState(key, now) !== KmsWire.KEY_STATE_ACTIVE) return { dek, version };
    try {
      const rewrapped = await wrapDek(wrapping, dek, aad);
      return { dek, version, rewrapped };
    } catch (error) {
      zero(dek);
      throw error;
    }
  }

  /** The data key of `ciphertext` under the newest version (also when it already is). */
  private async rewrap(target: Target, ciphertext: string, aad: readonly string[]): Promise<KmsWire.RewrapResponse> {
    this.requireWrappable(target);
    const result = await rewrapDek(await this.wrappingKey(target), ciphertext, aad);
    return { ciphertext: result.ciphertext, keyVersion: { id: result.from }, rewrappedKeyVersion: { id: result.keyVersionId } };
  }
}

/** A data key to wrap: canonical base64 of 1 byte to 4 KiB (INVALID_PLAINTEXT otherwise). */
export function decodeDek(plaintext: string): Buffer {
  const dek = decodeBase64(plaintext, 'plaintext', 'INVALID_PLAINTEXT');
  if (dek.length > MAX_DEK_BYTES) {
    const length = dek.length;
    zero(dek);
    throw new DomainError('INVALID_PLAINTEXT', `The plaintext must be at most ${MAX_DEK_BYTES} bytes (got ${length})`);
  }
  return dek;
}
