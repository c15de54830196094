import { Inject, Injectable } from '@nestjs/common';
import type { ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { DomainError, validationFailed } from '@sealbox/platform';
import { createHash } from 'node:crypto';
import { DekCache, type DekFacts, type DekScope } from '../dek-cache/dek-cache.js';
import { envelopeInvalid, integrityFailed } from '../errors.js';
import { KMS_CLIENT } from '../tokens.js';
import {
  canonicalContext,
  decodeCanonicalBase64,
  encodeEnvelope,
  encodeHeader,
  kmsAadOf,
  lengthPrefixed,
  MAX_PAYLOAD_BYTES,
  parseEnvelope,
  type ParsedEnvelope,
} from './format.js';
import type { KmsKeyClient } from './kms-client.js';
import {
  commitmentMatches,
  commitmentOf,
  decodeDek,
  decryptPayload,
  deriveKeys,
  encryptPayload,
  generateDek,
  newNonce,
  zero,
  zeroKeys,
  type EnvelopeKeys,
} from './primitives.js';

export type SealRequest = ValidatedRequestOf<'crypto.envelope.seal'>;
export type SealResponse = ResponseOf<'crypto.envelope.seal'>;
export type OpenRequest = ValidatedRequestOf<'crypto.envelope.open'>;
export type OpenResponse = ResponseOf<'crypto.envelope.open'>;

type Source = SealRequest['source'];
type KeyRef = SealRequest['key'];

/**
 * Envelope encryption (format v1, libs/crypto/ENVELOPE.md). Seal: a fresh DEK wrapped by kms under
 * the instance's root key with the context as aad, the payload under AES-256-GCM with a key derived
 * from the DEK, a key commitment. Open: strict parse, the DEK from the cache or kms, the commitment
 * checked before anything is decrypted, then the AEAD. Every DEK, derived key and plaintext buffer is
 * zeroed before the call returns, whatever the outcome.
 */
@Injectable()
export class EnvelopeService {
  constructor(
    @Inject(KMS_CLIENT) private readonly kms: KmsKeyClient,
    private readonly cache: DekCache,
  ) {}

  async seal(request: SealRequest): Promise<SealResponse> {
    const plaintext = decodeCanonicalBase64(request.plaintext);
    if (!plaintext) throw validationFailed([{ field: 'plaintext', message: 'must be canonical padded base64' }]);
    let dek: Buffer | undefined;
    let keys: EnvelopeKeys | undefined;
    try {
      if (plaintext.length > MAX_PAYLOAD_BYTES) {
        throw new DomainError('PAYLOAD_TOO_LARGE', `The payload is ${plaintext.length} bytes; at most ${MAX_PAYLOAD_BYTES} can be sealed`);
      }
      const context = canonicalContext(request.context);
      const aad = kmsAadOf(context);
      dek = generateDek();
      // The wrapped DEK is part of the header, hence of the payload's AAD: it is wrapped first.
      const wrapped = await this.kms.send('kms.key.wrap', {
        source: request.source,
        key: request.key,
        plaintext: dek.toString('base64'),
        aad: [aad],
      });
      keys = deriveKeys(dek);
      const envelope = this.build(keys, context, plaintext, wrapped.ciphertext, wrapped.keyVersion.id);
      return { envelope: envelope.toString('base64'), keyVersion: { id: wrapped.keyVersion.id } };
    } finally {
      zero(plaintext, dek);
      zeroKeys(keys);
    }
  }

  async open(request: OpenRequest): Promise<OpenResponse> {
    const bytes = decodeCanonicalBase64(request.envelope);
    if (!bytes) throw envelopeInvalid('it is not canonical padded base64');
    const parsed = parseEnvelope(bytes);
    const context = canonicalContext(request.context);
    const aad = kmsAadOf(context);
    const fingerprint = fingerprintOf(request.source, request.key, aad, parsed.wrappedDek);

    let dek: Buffer | undefined;
    let keys: EnvelopeKeys | undefined;
    let plaintext: Buffer | undefined;
    try {
      const obtained = await this.obtainDek(request, aad, parsed, fingerprint);
      dek = obtained.dek;
      keys = deriveKeys(dek);
      // Key commitment first: a ciphertext made to open under another DEK never reaches the AEAD.
      const expected = commitmentOf(keys.commitmentKey, context);
      if (!commitmentMatches(expected, parsed.commitment)) {
        throw integrityFailed('the key commitment does not match the data key and context');
      }
      plaintext = decryptPayload(keys.encryptionKey, parsed.nonce, Buffer.concat([parsed.header, context]), parsed.ciphertext, parsed.tag);
      if (!plaintext) throw integrityFailed('the payload does not authenticate');
      if (obtained.fill) {
        this.cache.put(fingerprint, scopeOf(request), Buffer.from(dek), obtained.fill.facts, obtained.fill.ticket);
      }
      const response: OpenResponse = { plaintext: plaintext.toString('base64') };
      const rewrapped = obtained.rewrapped;
      if (!rewrapped) return response;
      const envelope = this.build(keys, context, plaintext, rewrapped.ciphertext, rewrapped.keyVersion.id);
      return { ...response, rewrapped: { envelope: envelope.toString('base64'), keyVersion: { id: rewrapped.keyVersion.id } } };
    } finally {
      zero(dek, plaintext);
      zeroKeys(keys);
    }
  }

  /** The DEK (a Buffer the caller zeroes): from the cache, else from kms (then `fill` says what to cache). */
  private async obtainDek(
    request: OpenRequest,
    aad: string,
    parsed: ParsedEnvelope,
    fingerprint: string,
  ): Promise<{ dek: Buffer; rewrapped?: DekFacts['rewrapped']; fill?: { facts: DekFacts; ticket: number } }> {
    const cached = this.cache.get(fingerprint);
    if (cached) return cached.rewrapped ? { dek: cached.dek, rewrapped: cached.rewrapped } : { dek: cached.dek };
    const ticket = this.cache.ticket();
    const unwrapped = await this.kms
      .send('kms.key.unwrap', { source: request.source, key: request.key, ciphertext: parsed.wrappedDek, aad: [aad] })
      .catch((error: unknown) => {
        throw fromUnwrapError(error);
      });
    const dek = decodeDek(unwrapped.plaintext);
    // kms opened it under this key and aad, but it is not a 256-bit key: not one of our envelopes.
    if (!dek) throw integrityFailed('the wrapped key is not a 256-bit data encryption key');
    const facts: DekFacts = unwrapped.rewrapped
      ? { rewrapped: { ciphertext: unwrapped.rewrapped.ciphertext, keyVersion: { id: unwrapped.rewrapped.keyVersion.id } } }
      : {};
    return { dek, ...facts, fill: { facts, ticket } };
  }

  /** A complete envelope of `plaintext` under `keys`, with a fresh nonce. */
  private build(keys: EnvelopeKeys, context: Buffer, plaintext: Buffer, wrappedDek: string, keyVersionId: string): Buffer {
    const nonce = newNonce();
    const header = encodeHeader({ wrappedDek, keyVersionId, commitment: commitmentOf(keys.commitmentKey, context), nonce });
    const { ciphertext, tag } = encryptPayload(keys.encryptionKey, nonce, Buffer.concat([header, context]), plaintext);
    return encodeEnvelope(header, ciphertext, tag);
  }
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

function scopeOf(request: OpenRequest): DekScope {
  return { kmsInstanceId: request.key.instanceId, keyId: request.key.keyId, serviceInstance: request.source.serviceInstance };
}

/**
 * Cache key: SHA-256 over everything kms checked when it unwrapped — KMS instance, key, the calling
 * service (account, name, instance), the aad, the wrapped DEK — so a hit only repeats a kms answer.
 */
export function fingerprintOf(source: Source, key: KeyRef, aad: string, wrappedDek: string): string {
  const fields = [key.instanceId, key.keyId, source.accountId, source.serviceName, source.serviceInstance, aad, wrappedDek];
  return createHash('sha256').update(lengthPrefixed(fields)).digest('base64');
}
