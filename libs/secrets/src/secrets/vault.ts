import { Injectable } from '@nestjs/common';
import { DomainError, isDomainError, rootLogger, RpcClient } from '@sealbox/platform';
import { versionContext, versionObjectKey } from '../domain/context.js';
import type { InstanceEntity } from '../registry/entities.js';
import { CachedEnvelopeStore, type StoredEnvelope } from './envelopes.js';
import { payloadFromPlaintext, plaintextOf, type VersionPayload } from './payload.js';

/** The crypto source every secrets call names: the secrets-manager service of one instance. */
export function cryptoSourceOf(instance: InstanceEntity) {
  return { accountId: instance.accountId, serviceName: 'secrets-manager', serviceInstance: instance.instanceGuid };
}

/** The instance's root key; its account named only when it is not the instance's (provider-managed encryption). */
export function rootKeyOf(instance: InstanceEntity) {
  return { instanceId: instance.kmsInstanceId, keyId: instance.kmsKeyId, ...(instance.kmsAccountId !== null ? { accountId: instance.kmsAccountId } : {}) };
}

/**
 * The one place where version payloads are sealed and opened, in front of the object store: crypto
 * seals a payload under a fresh DEK bound to (instance CRN, secret id, version id), and storage only
 * ever receives the envelope. A stored object that does not open under its own context (swapped,
 * edited, truncated or missing) is INTEGRITY_FAILED. Envelopes go through a bounded cache of
 * ciphertext (`CachedEnvelopeStore`): a hot read skips the object store, never crypto.
 */
@Injectable()
export class VersionVault {
  constructor(
    private readonly rpc: RpcClient,
    private readonly envelopes: CachedEnvelopeStore,
  ) {}

  /** Seal a version's payload and store the envelope at the version's key. */
  async store(instance: InstanceEntity, secretId: string, versionId: string, payload: VersionPayload): Promise<void> {
    const plaintext = plaintextOf(payload);
    let sealed;
    try {
      sealed = await this.rpc.send('crypto.envelope.seal', {
        source: cryptoSourceOf(instance),
        key: rootKeyOf(instance),
        context: versionContext(instance.crn, secretId, versionId),
        plaintext,
      });
    } finally {
      plaintext.fill(0);
    }
    await this.envelopes.put(instance.instanceGuid, versionObjectKey(secretId, versionId), sealed.envelope);
  }

  /** Read and open a version's envelope; an envelope crypto rewrapped under a newer root key version is stored back. */
  async open(instance: InstanceEntity, type: string, secretId: string, versionId: string): Promise<VersionPayload> {
    const key = versionObjectKey(secretId, versionId);
    let envelope: StoredEnvelope;
    try {
      envelope = await this.envelopes.get(instance.instanceGuid, key);
    } catch (error) {
      if (isDomainError(error) && error.code === 'NOT_FOUND') throw new DomainError('INTEGRITY_FAILED', `The data of version ${versionId} is missing from storage`);
      throw error;
    }
    let opened;
    try {
      opened = await this.rpc.send('crypto.envelope.open', {
        source: cryptoSourceOf(instance),
        key: rootKeyOf(instance),
        context: versionContext(instance.crn, secretId, versionId),
        envelope,
      });
    } catch (error) {
      if (isDomainError(error) && (error.code === 'INTEGRITY_FAILED' || error.code === 'ENVELOPE_INVALID' || error.code === 'VALIDATION_FAILED')) {
        // Not kept: the next read fetches the object again (it may have been repaired).
        this.envelopes.forget(instance.instanceGuid, key);
        throw new DomainError('INTEGRITY_FAILED', `The stored data of version ${versionId} does not verify: it was altered or belongs elsewhere`);
      }
      throw error;
    }
    if (opened.rewrapped) {
      try {
        await this.envelopes.put(instance.instanceGuid, key, opened.rewrapped.envelope);
      } catch (error) {
        rootLogger().warn({ err: error, instanceGuid: instance.instanceGuid, secretId, versionId }, 'secrets: could not store a rewrapped envelope; the next read retries');
      }
    }
    return payloadFromPlaintext(type, opened.plaintext);
  }

  /** Remove a version's object; a failure is logged (the orphan sweep removes it later). */
  async remove(instanceGuid: string, secretId: string, versionId: string): Promise<void> {
    try {
      await this.envelopes.delete(instanceGuid, versionObjectKey(secretId, versionId));
    } catch (error) {
      rootLogger().warn({ err: error, instanceGuid, secretId, versionId }, 'secrets: could not remove an object; the orphan sweep will');
    }
  }

  /** One page of the object keys of an instance's secrets. */
  list(instanceGuid: string, prefix: string, startAfter: string | undefined, limit: number) {
    return this.rpc.send('storage.object.list', { instanceGuid, prefix, limit, ...(startAfter === undefined ? {} : { startAfter }) });
  }
}
