/** Envelope encryption wire shapes (`crypto.envelope.*`). Payloads and envelopes travel base64. */
import { z } from 'zod';
import { RootKeyRef, ServiceSource } from '../kms/schemas.js';

/** What a sealed payload is bound to: it opens only with the same context. */
export const EnvelopeContext = z.object({
  instanceCrn: z.string().min(1).max(512),
  secretId: z.string().min(1).max(128),
  versionId: z.string().min(1).max(128),
});
export type EnvelopeContext = z.infer<typeof EnvelopeContext>;

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');

export const SealRequest = z.object({
  source: ServiceSource,
  key: RootKeyRef,
  context: EnvelopeContext,
  /** The payload, base64 (at most 1 MiB decoded). */
  plaintext: base64.max(1_398_104),
});
export const SealResponse = z.object({ envelope: z.string(), keyVersion: z.object({ id: z.string() }) });

export const OpenRequest = z.object({
  source: ServiceSource,
  key: RootKeyRef,
  context: EnvelopeContext,
  envelope: base64.min(1),
});
export const OpenResponse = z.object({
  plaintext: z.string(),
  /** Present when the DEK was wrapped under an older root key version: the envelope rewrapped under the newest. */
  rewrapped: z.object({ envelope: z.string(), keyVersion: z.object({ id: z.string() }) }).optional(),
});
