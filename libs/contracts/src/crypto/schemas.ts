/** Envelope encryption wire shapes (`crypto.envelope.*`). Payloads and envelopes travel as bytes. */
import { z } from 'zod';
import { bytes, Bytes } from '../bytes.js';
import { RootKeyRef, ServiceSource } from '../kms/schemas.js';

/**
 * A context field: encoded as UTF-8 into the envelope's AAD, so it must be well-formed Unicode (a lone
 * surrogate would encode as U+FFFD and two different strings would bind the same context).
 */
const contextField = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((value) => !/\p{Surrogate}/u.test(value), 'must be well-formed Unicode (no lone surrogates)');

/** What a sealed payload is bound to: it opens only with the same context. */
export const EnvelopeContext = z.object({
  instanceCrn: contextField(512),
  secretId: contextField(128),
  versionId: contextField(128),
});
export type EnvelopeContext = z.infer<typeof EnvelopeContext>;

/** Largest payload a v1 envelope holds (the `plaintext` of a seal, decoded). */
export const MAX_PAYLOAD_BYTES = 1_048_576;
/**
 * Largest v1 envelope: fixed fields (magic 3, version 1, lengths 2 + 1, commitment 32, nonce 12,
 * tag 16), a wrapped key of at most 8192 bytes, a key version id of at most 255 bytes, the payload.
 */
export const MAX_ENVELOPE_BYTES = 67 + 8192 + 255 + MAX_PAYLOAD_BYTES;

export const SealRequest = z.object({
  source: ServiceSource,
  key: RootKeyRef,
  context: EnvelopeContext,
  /** The payload (at most 1 MiB). */
  plaintext: bytes(0, MAX_PAYLOAD_BYTES),
});
export const SealResponse = z.object({
  /** The envelope (format v1, see libs/crypto/ENVELOPE.md). */
  envelope: Bytes,
  /** The root key version that wrapped the data key. */
  keyVersion: z.object({ id: z.string() }),
});

export const OpenRequest = z.object({
  source: ServiceSource,
  key: RootKeyRef,
  context: EnvelopeContext,
  /** An envelope made by `crypto.envelope.seal` (or returned as `rewrapped`). */
  envelope: bytes(1, MAX_ENVELOPE_BYTES),
});
export const OpenResponse = z.object({
  plaintext: Bytes,
  /** Present when the DEK was wrapped under an older root key version: the envelope rewrapped under the newest. */
  rewrapped: z.object({ envelope: Bytes, keyVersion: z.object({ id: z.string() }) }).optional(),
});
