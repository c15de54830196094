import { Injectable } from '@nestjs/common';
import { KmsWire, type ValidatedRequestOf } from '@sealbox/contracts';
import { Clock, notFound, type Caller } from '@sealbox/platform';
import { randomBytes } from 'node:crypto';
import { zero } from '../domain/binary.js';
import { effectiveState, requireActive, requireUnwrappable } from '../domain/key-lifecycle.js';
import { rewrapDek, unwrapDek, wrapDek, type VersionRef, type WrappedDek, type WrappingKey } from '../domain/key-wrapping.js';
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

/** An unwrapped data key. */
export interface Unwrapped {
  /** The data key; the caller zeroes it. */
  readonly dek: Buffer;
  readonly version: VersionRef;
  /** The data key under the newest version, when the ciphertext was of an older one (and the key is active). */
  readonly rewrapped?: WrappedDek;
}

/** A rewrap: the ciphertext under the newest version, and the version it was made with. */
export type Rewrapped = WrappedDek & { readonly from: string };

type KeyAddress = { readonly instanceId: string; readonly id: string };
type ServiceAddress = Pick<ValidatedRequestOf<'kms.key.wrap'>, 'source' | 'key'>;

/**
 * A binary field of the request, decoded only once the key may be used (its wire checks come after
 * the key's: a disabled key answers KEY_DISABLED whatever the ciphertext). The controller decodes.
 */
export type Bytes = () => Buffer;

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

  /**
   * Wrap `dek` (zeroed here once wrapped), or a data key generated here when it is absent (returned
   * as `generated`: the caller zeroes it).
   */
  async apiWrap(caller: Caller, request: KeyAddress & { dek?: Bytes; aad: readonly string[] }): Promise<WrappedDek & { generated?: Buffer }> {
    const target = await this.userTarget(caller, request);
    this.requireWrappable(target);
    if (request.dek) return this.wrapGiven(target, request.dek, request.aad);
    const generated = randomBytes(GENERATED_DEK_BYTES);
    try {
      return { ...(await this.wrap(target, generated, request.aad)), generated };
    } catch (error) {
      zero(generated);
      throw error;
    }
  }

  async apiUnwrap(caller: Caller, request: KeyAddress & { ciphertext: Bytes; aad: readonly string[] }): Promise<Unwrapped> {
    return this.unwrap(await this.userTarget(caller, request), request.ciphertext, request.aad);
  }

  async apiRewrap(caller: Caller, request: KeyAddress & { ciphertext: Bytes; aad: readonly string[] }): Promise<Rewrapped> {
    return this.rewrap(await this.userTarget(caller, request), request.ciphertext, request.aad);
  }

  // ---- other services ----

  /** Wrap `dek` (zeroed here once wrapped). */
  async serviceWrap(request: ServiceAddress & { dek: Bytes; aad: readonly string[] }): Promise<WrappedDek> {
    const target = await this.serviceTarget(request);
    this.requireWrappable(target);
    return this.wrapGiven(target, request.dek, request.aad);
  }

  async serviceUnwrap(request: ServiceAddress & { ciphertext: Bytes; aad: readonly string[] }): Promise<Unwrapped> {
    return this.unwrap(await this.serviceTarget(request), request.ciphertext, request.aad);
  }

  async serviceRewrap(request: ServiceAddress & { ciphertext: Bytes; aad: readonly string[] }): Promise<Rewrapped> {
    return this.rewrap(await this.serviceTarget(request), request.ciphertext, request.aad);
  }

  // ---- core ----

  private async userTarget(caller: Caller, request: KeyAddress): Promise<Target> {
    const target = await this.targets.find(caller.accountId, request.instanceId, request.id);
    if (!target.key) throw notFound(`Key ${request.id}`);
    requireRootKey(target.key, 'wrap, unwrap and rewrap');
    return { ...target, key: target.key };
  }

  /**
   * The instance must be of the calling service's account, and an IAM authorization must let the
   * calling instance use the key (checked before saying whether the key exists).
   */
  private async serviceTarget(request: ServiceAddress): Promise<Target> {
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

  /** Wrap the caller's data key, zeroed afterwards. */
  private async wrapGiven(target: Target, dek: Bytes, aad: readonly string[]): Promise<WrappedDek> {
    const bytes = dek();
    try {
      return await this.wrap(target, bytes, aad);
    } finally {
      zero(bytes);
    }
  }

  private async wrap(target: Target, dek: Buffer, aad: readonly string[]): Promise<WrappedDek> {
    this.requireWrappable(target);
    return wrapDek(await this.wrappingKey(target), dek, aad);
  }

  /** Unwrap; a ciphertext of an older version comes back rewrapped under the newest (when the key is active). */
  private async unwrap(target: Target, ciphertext: Bytes, aad: readonly string[]): Promise<Unwrapped> {
    const { instance, key } = target;
    this.instances.requireInitialized(instance);
    const now = this.clock.nowMs();
    requireUnwrappable(key, now);
    const wrapping = await this.wrappingKey(target);
    const { dek, version } = await unwrapDek(wrapping, ciphertext(), aad);
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
  private async rewrap(target: Target, ciphertext: Bytes, aad: readonly string[]): Promise<Rewrapped> {
    this.requireWrappable(target);
    return rewrapDek(await this.wrappingKey(target), ciphertext(), aad);
  }
}
