/** `kv`: a JSON object of key-value data. */
import { z } from 'zod';
import { jsonBytes, patchCommon, prototypeCommon, versionPrototypeCommon } from '../common.js';
import { defineSecretType } from './define.js';

/** `kv` data: 512 KiB of JSON (IBM: 512 KB). */
export const KV_DATA_MAX_BYTES = 512 * 1024;

/** `kv` data: a JSON object (not an array, not a scalar) up to 512 KiB. */
export const KvData = z
  .record(z.string(), z.unknown())
  .refine((data) => jsonBytes(data) <= KV_DATA_MAX_BYTES, `must be at most ${KV_DATA_MAX_BYTES} bytes of JSON`);

export const KvSecretPrototype = z.strictObject({
  secret_type: z.literal('kv'),
  ...prototypeCommon,
  data: KvData,
});
export const KvSecretMetadataPatch = z.strictObject(patchCommon);
export const KvSecretVersionPrototype = z.strictObject({ ...versionPrototypeCommon, data: KvData });

export const kv = defineSecretType({
  type: 'kv',
  prototype: KvSecretPrototype,
  metadataPatch: KvSecretMetadataPatch,
  versionPrototype: KvSecretVersionPrototype,
  metadataFields: {},
  payloadFields: { data: z.record(z.string(), z.unknown()) },
  versionFields: {},
});
export const KvSecretMetadata = kv.metadata;
export const KvSecret = kv.secret;
