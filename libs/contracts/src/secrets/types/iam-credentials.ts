/** `iam_credentials`: an API key of a service ID, issued by iam for each version, with a ttl and rotation. */
import { z } from 'zod';
import { patchCommon, prototypeCommon, RotationPolicy, RotationPolicyOut, RotationPolicyPatch, ttlSeconds, versionPrototypeCommon, DateTime } from '../common.js';
import { defineSecretType } from './define.js';

/** `iam_credentials` ttl: 1 minute to 90 days (IBM). */
export const IAM_CREDENTIALS_TTL_MIN_SECONDS = 60;
export const IAM_CREDENTIALS_TTL_MAX_SECONDS = 90 * 24 * 3600;
/** `iam_credentials` access groups: 1–10 (IBM). */
export const MAX_ACCESS_GROUPS = 10;

/** An `iam_credentials` ttl: seconds or a duration with unit s|m|h|d, from 1 minute to 90 days. */
export const Ttl = z.string().superRefine((ttl, ctx) => {
  const seconds = ttlSeconds(ttl);
  if (seconds === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be a number of seconds or a duration such as "90m", "24h" or "1d"' });
  } else if (seconds < IAM_CREDENTIALS_TTL_MIN_SECONDS || seconds > IAM_CREDENTIALS_TTL_MAX_SECONDS) {
    ctx.addIssue({ code: 'custom', message: 'must be between 1 minute and 90 days' });
  }
});

export const IamCredentialsSecretPrototype = z
  .strictObject({
    secret_type: z.literal('iam_credentials'),
    ...prototypeCommon,
    ttl: Ttl,
    reuse_api_key: z.boolean(),
    /** The service ID the API key is created for (the service decides whether access_groups alone is supported). */
    service_id: z.string().min(1).max(128).optional(),
    access_groups: z.array(z.string().min(1).max(128)).min(1).max(MAX_ACCESS_GROUPS).optional(),
    account_id: z.string().min(1).max(64).optional(),
    rotation: RotationPolicy.optional(),
  })
  .superRefine((prototype, ctx) => {
    if (prototype.service_id === undefined && prototype.access_groups === undefined) {
      ctx.addIssue({ code: 'custom', path: ['service_id'], message: 'is required (or access_groups)' });
    }
  });
export const IamCredentialsSecretMetadataPatch = z.strictObject({
  ...patchCommon,
  ttl: Ttl.optional(),
  rotation: RotationPolicyPatch.optional(),
});
/** A new API key for the secret's service ID. */
export const IamCredentialsSecretVersionPrototype = z.strictObject(versionPrototypeCommon);

export const iamCredentials = defineSecretType({
  type: 'iam_credentials',
  prototype: IamCredentialsSecretPrototype,
  metadataPatch: IamCredentialsSecretMetadataPatch,
  versionPrototype: IamCredentialsSecretVersionPrototype,
  metadataFields: {
    ttl: z.string(),
    reuse_api_key: z.boolean(),
    service_id: z.string().optional(),
    service_id_is_static: z.boolean().optional(),
    access_groups: z.array(z.string()).optional(),
    account_id: z.string().optional(),
    rotation: RotationPolicyOut.optional(),
    next_rotation_date: DateTime.optional(),
  },
  payloadFields: { api_key: z.string().optional(), api_key_id: z.string().optional() },
  versionFields: { api_key_id: z.string().optional(), service_id: z.string().optional() },
});
export const IamCredentialsSecretMetadata = iamCredentials.metadata;
export const IamCredentialsSecret = iamCredentials.secret;
