import { Inject, Injectable } from '@nestjs/common';
import type { ValidatedRequestOf } from '@sealbox/contracts';
import { DomainError } from '@sealbox/platform';
import { DekCache, type CachedDek, type DekBinding, type DekScope } from '../dek-cache/dek-cache.js';
import { integrityFailed } from '../errors.js';
import { KMS_KEYS } from '../tokens.js';
import { canonicalContext, DEK_BYTES, kmsAadOf, layOutEnvelope, MAX_PAYLOAD_BYTES, parseEnvelope, type ParsedEnvelope } from './format.js';
import type { KmsKeys, WrappedDek } from './kms-client.js';
import {
  commitmentMatches,
  commitmentOf,
  decryptPayload,
  deriveKeys,
  encryptPayloadInto,
  freshSecrets,
  newNonce,
  zero,
  zeroKeys,
  type EnvelopeKeys,
} from './primitives.js';

type SealRequest = ValidatedRequestOf<'crypto.envelope.seal'>;
type Source = SealRequest['source'];
type KeyRef = SealRequest['key'];
type Context = SealRequest['context'];

/** What to seal: the payload in bytes (at most 1 MiB), for a root key and a context. */
export interface SealInput {
  readonly source: Source;
  readonly key: KeyRef;
  readonly context: Context;
  /** The payload; it stays the caller's (the service neither keeps nor zeroes it). */
  readonly plaintext: Buffer;
}

export interface Sealed {
  /** The envelope (format v1), a Buffer of its own. */
  readonly envelope: Buffer;
  readonly keyVersion: { readonly id: string };
}

export interface OpenInput {
  readonly source: Source;
  readonly key: KeyRef;
  readonly context: Context;
  readonly envelope: Buffer;
}

export interface Opened {
  /** The payload, a Buffer of its own: the caller zeroes it once used. */
  readonly plaintext: Buffer;
  /** When kms unwrapped with an older root key version: the same payload sealed for the newest. */
  readonly rewrapped?: Sealed;
}

/**
 * Envelope encryption (format v1, libs/crypto/ENVELOPE.md), in bytes: the RPC controller is the one
 * place that converts to and from the wire. Seal: a fresh DEK wrapped by kms under the instance's root
 * key with the context as aad, the payload under AES-256-GCM with a key derived from the DEK, a key
 * commitment. Open: strict parse, the DEK's keys from the cache or the DEK from kms, the commitment
 * checked before anything is decrypted, then the AEAD. Every DEK and derived key the service makes is
 * zeroed before the call returns, whatever the outcome, unless the DEK cache took it over.
 */
@Injectable()
export class EnvelopeService {
  constructor(
    @Inject(KMS_KEYS) private readonly kms: KmsKeys,
    private readonly cache: DekCache,
  ) {}

  async seal(input: SealInput): Promise<Sealed> {
    const { plaintext } = input;
    if (plaintext.length > MAX_PAYLOAD_BYTES) {
      throw new DomainError('PAYLOAD_TOO_LARGE', `The payload is ${plaintext.length} bytes; at most ${MAX_PAYLOAD_BYTES} can be sealed`);
    }
    const context = canonicalContext(input.context);
    const fresh = freshSecrets();
    let keys: EnvelopeKeys | undefined;
    let commitment: Buffer | undefined;
    try {
      // The wrapped DEK is part of the header, hence of the payload's AAD: it is wrapped first.
      const wrapped = await this.kms.wrap({ source: input.source, key: input.key, dek: fresh.dek, aad: kmsAadOf(context) });
      keys = deriveKeys(fresh.dek);
      commitment = commitmentOf(keys.commitmentKey, context);
      const envelope = build({ encryptionKey: keys.encryptionKey, commitment }, context, plaintext, wrapped, fresh.nonce);
      return { envelope, keyVersion: { id: wrapped.keyVersionId } };
    } finally {
      zero(fresh.bytes, commitment);
      zeroKeys(keys);
    }
  }

  async open(input: OpenInput): Promise<Opened> {
    const parsed = parseEnvelope(input.envelope);
    const binding = dekBindingOf(input);
    const hit = this.cache.use(parsed.wrappedDek, binding, (dek) => openWith(dek, parsed));
    if (hit) return hit;

    const context = canonicalContext(input.context);
    const ticket = this.cache.ticket();
    const unwrapped = await this.kms
      .unwrap({ source: input.source, key: input.key, wrappedDek: parsed.wrappedDek, aad: kmsAadOf(context) })
      .catch((error: unknown) => {
        throw fromUnwrapError(error);
      });
    let keys: EnvelopeKeys | undefined;
    let cached: CachedDek | undefined;
    try {
      // kms opened it under this key and aad, but it is not a 256-bit key: not one of our envelopes.
      if (unwrapped.dek.length !== DEK_BYTES) throw integrityFailed('the wrapped key is not a 256-bit data encryption key');
      keys = deriveKeys(unwrapped.dek);
      const commitment = commitmentOf(keys.commitmentKey, context);
      zero(keys.commitmentKey);
      cached = { encryptionKey: keys.encryptionKey, commitment, context, ...(unwrapped.rewrapped ? { rewrapped: unwrapped.rewrapped } : {}) };
      keys = undefined;
      const opened = openWith(cached, parsed);
      // Opened: the keys are good for this binding; the cache owns them from here (or zeroes them).
      this.cache.put(parsed.wrappedDek, binding, scopeOf(input), cached, ticket);
      cached = undefined;
      return opened;
    } finally {
      zero(unwrapped.dek, cached?.encryptionKey, cached?.commitment);
      zeroKeys(keys);
    }
  }
}

/**
 * Open with the DEK's keys: the commitment first (a ciphertext made to open under another DEK never
 * reaches the AEAD), then the AEAD; with kms's rewrap, the payload sealed again for the newest key
 * version. Synchronous: it runs on a borrowed cache entry.
 */
function openWith(dek: CachedDek, parsed: ParsedEnvelope): Opened {
  const { context } = dek;
  if (!commitmentMatches(dek.commitment, parsed.commitment)) {
    throw integrityFailed('the key commitment does not match the data key and context');
  }
  const plaintext = decryptPayload(dek.encryptionKey, parsed.nonce, [parsed.header, context], parsed.ciphertext, parsed.tag);
  if (!plaintext) throw integrityFailed('the payload does not authenticate');
  const rewrapped = dek.rewrapped;
  if (!rewrapped) return { plaintext };
  try {
    const envelope = build(dek, context, plaintext, rewrapped, newNonce());
    return { plaintext, rewrapped: { envelope, keyVersion: { id: rewrapped.keyVersionId } } };
  } catch (error) {
    zero(plaintext);
    throw error;
  }
}

/** A complete envelope of `plaintext` under the DEK's keys, written into one Buffer. */
function build(keys: { encryptionKey: Buffer; commitment: Buffer }, context: Buffer, plaintext: Buffer, wrapped: WrappedDek, nonce: Buffer): Buffer {
  const layout = layOutEnvelope(wrapped.wrappedDek, wrapped.keyVersionId, plaintext.length);
  keys.commitment.copy(layout.commitment);
  nonce.copy(layout.nonce);
  encryptPayloadInto(keys.encryptionKey, layout.nonce, [layout.header, context], plaintext, layout.ciphertext, layout.tag);
  return layout.bytes;
}

/**
 * kms's errors reach the caller unchanged (KEY_DISABLED, NOT_FOUND, FORBIDDEN, INTEGRITY_FAILED...),
 * except INVALID_CIPHERTEXT: the ciphertext came out of the envelope, so for the caller it is the
 * envelope that does not authenticate — the same INTEGRITY_FAILED as any other altered byte.
 */
export function fromUnwrapError(error: unknown): unknown {
  if (error instanceof DomainError && error.code === 'INVALID_CIPHERTEXT') {
    return integrityFailed('kms does not take its wrapped data key for a ciphertext of this key');
  }
  return error;
}

function scopeOf(input: OpenInput): DekScope {
  return { kmsInstanceId: input.key.instanceId, keyId: input.key.keyId, serviceInstance: input.source.serviceInstance };
}

/**
 * What kms checks when it unwraps, besides the wrapped DEK: the key (its account as kms resolves it,
 * KMS instance, key), the calling service (account, name, instance) and the context the aad binds. A
 * cached DEK serves only the same binding, so a hit only repeats a kms answer.
 */
export function dekBindingOf(input: { source: Source; key: KeyRef; context: Context }): DekBinding {
  const { source, key, context } = input;
  return [
    key.accountId ?? source.accountId,
    key.instanceId,
    key.keyId,
    source.accountId,
    source.serviceName,
    source.serviceInstance,
    context.instanceCrn,
    context.secretId,
    context.versionId,
  ];
}
