/** `arbitrary`: one opaque string payload, an optional expiration date. */
import { z } from 'zod';
import { DateTime, patchCommon, prototypeCommon, utf8Bytes, versionPrototypeCommon } from '../common.js';
import { defineSecretType } from './define.js';

/**
 * `arbitrary` payload: 512 KiB of UTF-8. IBM allows 1 MB; we chose less so that a maximal payload,
 * JSON-escaped in a request body, still fits the gateway's default 1 MiB body limit.
 */
export const ARBITRARY_PAYLOAD_MAX_BYTES = 512 * 1024;

export const ArbitraryPayload = z
  .string()
  .min(1)
  .refine((payload) => utf8Bytes(payload) <= ARBITRARY_PAYLOAD_MAX_BYTES, `must be at most ${ARBITRARY_PAYLOAD_MAX_BYTES} bytes`);

export const ArbitrarySecretPrototype = z.strictObject({
  secret_type: z.literal('arbitrary'),
  ...prototypeCommon,
  expiration_date: DateTime.optional(),
  payload: ArbitraryPayload,
});
export const ArbitrarySecretMetadataPatch = z.strictObject({ ...patchCommon, expiration_date: DateTime.nullable().optional() });
export const ArbitrarySecretVersionPrototype = z.strictObject({ ...versionPrototypeCommon, payload: ArbitraryPayload });

export const arbitrary = defineSecretType({
  type: 'arbitrary',
  prototype: ArbitrarySecretPrototype,
  metadataPatch: ArbitrarySecretMetadataPatch,
  versionPrototype: ArbitrarySecretVersionPrototype,
  metadataFields: { expiration_date: DateTime.optional() },
  payloadFields: { payload: z.string() },
  versionFields: {},
});
export const ArbitrarySecretMetadata = arbitrary.metadata;
export const ArbitrarySecret = arbitrary.secret;
