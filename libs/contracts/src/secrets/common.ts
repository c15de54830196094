/**
 * Secrets Manager v2 wire shapes, common part: what the gateway serves at `/secrets-manager/{instance_guid}/api/v2/…`
 * and what the project's SM v2 client (`@sealbox/sm-client`) parses. IBM field names and JSON, as in
 * IBM Cloud's Secrets Manager v2 API reference (docs/secrets-manager.md lists where Sealbox differs).
 *
 * Requests (prototypes, patches, lock bodies) are STRICT: a field this API does not take is rejected
 * with its own name, so an unsupported IBM feature (`managed_csr`, `rotation` on an `arbitrary` secret,
 * a typo) fails loudly instead of being dropped. Responses are plain objects (unknown fields are
 * stripped), so a newer server does not break an older client.
 *
 * Query strings arrive as text: numbers are read from digits only, lists from comma-joined values (the
 * IBM SDKs comma-join arrays), so `?limit=abc`, `?limit=1.5` or `?sort=colour` fail naming the parameter.
 *
 * Limits (named constants) follow IBM's published limits; a type's own limits live in its module
 * (types/<type>.ts). Sizes are UTF-8 bytes of the string (or of the JSON text, for objects).
 *
 * This file holds what every secret type shares: limits, scalars, states, rotation, and the common
 * fields of prototypes, patches and responses. Each type adds its own fields in types/<type>.ts.
 */
import { z } from 'zod';

// ---------- limits ----------

/** Secret names: 2–256 characters (IBM). */
export const SECRET_NAME_MIN_LENGTH = 2;
export const SECRET_NAME_MAX_LENGTH = 256;
/** Secret group names: 2–64 characters (IBM). */
export const SECRET_GROUP_NAME_MIN_LENGTH = 2;
export const SECRET_GROUP_NAME_MAX_LENGTH = 64;
/** Secret groups per instance, `default` excluded (IBM: 200). Enforced by the secrets service. */
export const MAX_SECRET_GROUPS_PER_INSTANCE = 200;
/** Descriptions of secrets, groups and locks: up to 1024 characters (IBM). */
export const DESCRIPTION_MAX_LENGTH = 1024;
/** Up to 30 labels per secret, each 2–64 characters (IBM's limits page; older API text says 2–30: we accept the larger). */
export const MAX_LABELS = 30;
export const LABEL_MIN_LENGTH = 2;
export const LABEL_MAX_LENGTH = 64;
/** Characters IBM does not allow in a label (a comma would also break the comma-joined `match_all_labels`). */
export const LABEL_FORBIDDEN_CHARACTERS = '<>,:&|';
/** `custom_metadata` and `version_custom_metadata`: at most 10 KiB of JSON each (IBM: 10 KB). */
export const CUSTOM_METADATA_MAX_BYTES = 10 * 1024;
/** `imported_cert` certificate, intermediate and private key: 100 KiB of PEM each (IBM: 100 KB). */
export const CERTIFICATE_PEM_MAX_BYTES = 100 * 1024;
/** Rotation interval: up to 3 years, in days or months (our choice; IBM documents no upper bound). */
export const ROTATION_MAX_DAYS = 1095;
export const ROTATION_MAX_MONTHS = 36;
/** Versions whose metadata a secret keeps (IBM: 50). Enforced by the secrets service. */
export const MAX_VERSIONS_KEPT = 50;
/** Locks per secret version, and per bulk request (IBM: 1000). */
export const MAX_LOCKS_PER_VERSION = 1000;
/** Secret list: `limit` 1–1000, 200 by default (IBM). */
export const LIST_SECRETS_DEFAULT_LIMIT = 200;
export const LIST_SECRETS_MAX_LIMIT = 1000;
/** Locks of one secret or version: `limit` 1–100 (IBM), 25 by default (our choice). */
export const LIST_LOCKS_DEFAULT_LIMIT = 25;
export const LIST_LOCKS_MAX_LIMIT = 100;
/** `search`: up to 128 characters (IBM). */
export const SEARCH_MAX_LENGTH = 128;
/** `groups` filter: up to 201 group ids (IBM: 200 groups + default). */
export const MAX_GROUPS_FILTER = 201;

// ---------- scalars ----------

/** The UTF-8 size of a string. */
export function utf8Bytes(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/** The UTF-8 size of a value's JSON text. */
export function jsonBytes(value: unknown): number {
  return utf8Bytes(JSON.stringify(value) ?? '');
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/**
 * IBM's name rule: letters and digits in runs joined by `_`, `-` and `.` separators (in that order
 * within one separator), starting and ending with a letter or digit. IBM writes it with nested
 * quantifiers (`^[A-Za-z0-9][A-Za-z0-9]*(?:_*-*\.*[A-Za-z0-9]+)*$`), which backtracks exponentially on
 * a long near-miss; this is the same language with every separator non-empty, so it runs in linear time.
 */
export const NAME_PATTERN = /^[A-Za-z0-9]+(?:(?:_+-*\.*|-+\.*|\.+)[A-Za-z0-9]+)*$/;
const NAME_RULE = 'must be letters and digits joined by "_", "-" or ".", starting and ending with a letter or digit';
/** Lock names (IBM): a letter, then 1–63 letters, digits, `-`, `_` or `.`. */
export const LOCK_NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9_.-]{1,63}$/;

export const Uuid = z.string().regex(UUID_PATTERN, 'must be a lowercase UUID');
export const SecretId = Uuid;
export const DEFAULT_SECRET_GROUP_ID = 'default';
/** A secret group id: a UUID or `default`. */
export const SecretGroupId = z.union([Uuid, z.literal(DEFAULT_SECRET_GROUP_ID)], { error: 'must be a UUID or "default"' });
export const VersionAliases = ['current', 'previous'] as const;
export const VersionAlias = z.enum(VersionAliases);
export type VersionAlias = z.infer<typeof VersionAlias>;
/** A version id in a path: a UUID, `current` or `previous`. */
export const SecretVersionId = z.union([Uuid, VersionAlias], { error: 'must be a UUID, "current" or "previous"' });

export const SecretName = z.string().min(SECRET_NAME_MIN_LENGTH).max(SECRET_NAME_MAX_LENGTH).regex(NAME_PATTERN, NAME_RULE);
export const SecretGroupName = z
  .string()
  .min(SECRET_GROUP_NAME_MIN_LENGTH)
  .max(SECRET_GROUP_NAME_MAX_LENGTH)
  .regex(NAME_PATTERN, NAME_RULE);
export const Description = z.string().max(DESCRIPTION_MAX_LENGTH);
/** RFC 3339 date-time with `Z` or an offset. */
export const DateTime = z.iso.datetime({ offset: true });

/** LABEL_FORBIDDEN_CHARACTERS and the C0 control characters and DEL. */
const forbiddenInLabel = /[<>,:&|\u0000-\u001f\u007f]/;
export const Label = z
  .string()
  .min(LABEL_MIN_LENGTH)
  .max(LABEL_MAX_LENGTH)
  .refine((label) => !forbiddenInLabel.test(label), `must not contain control characters or any of ${LABEL_FORBIDDEN_CHARACTERS}`);
export const Labels = z
  .array(Label)
  .max(MAX_LABELS)
  .superRefine((labels, ctx) => {
    const seen = new Set<string>();
    labels.forEach((label, index) => {
      if (seen.has(label)) ctx.addIssue({ code: 'custom', path: [index], message: `duplicate label "${label}"` });
      seen.add(label);
    });
  });

/** User-defined metadata: any JSON object up to 10 KiB. */
export const CustomMetadata = z
  .record(z.string(), z.unknown())
  .refine((value) => jsonBytes(value) <= CUSTOM_METADATA_MAX_BYTES, `must be at most ${CUSTOM_METADATA_MAX_BYTES} bytes of JSON`);
export type CustomMetadata = z.infer<typeof CustomMetadata>;

// ---------- secret types and states ----------

/** Every `secret_type` IBM defines. The types Sealbox stores are the registry in types/index.ts. */
export const IbmSecretTypes = [
  'arbitrary',
  'iam_credentials',
  'imported_cert',
  'kv',
  'private_cert',
  'public_cert',
  'service_credentials',
  'username_password',
  'custom_credentials',
] as const;
export const IbmSecretType = z.enum(IbmSecretTypes);
export type IbmSecretType = z.infer<typeof IbmSecretType>;

/** Secret states (NIST SP 800-57 numbering, as IBM). */
export const SecretStates = { pre_activation: 0, active: 1, suspended: 2, deactivated: 3, destroyed: 5 } as const;
export type SecretStateDescription = keyof typeof SecretStates;
export const SecretState = z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3), z.literal(5)]);
export type SecretState = z.infer<typeof SecretState>;
export const SecretStateDescription = z.enum(['pre_activation', 'active', 'suspended', 'deactivated', 'destroyed']);

// ---------- shared fields ----------

const TTL_PATTERN = /^([0-9]{1,9})([smhd]?)$/;
const TTL_UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds of an IBM ttl (`"3600"`, `"90s"`, `"120m"`, `"24h"`, `"1d"`), or undefined when it is not one. */
export function ttlSeconds(ttl: string): number | undefined {
  const match = TTL_PATTERN.exec(ttl);
  if (!match) return undefined;
  const [, amount = '', unit = ''] = match;
  const perUnit = TTL_UNIT_SECONDS[unit];
  return perUnit === undefined ? undefined : Number(amount) * perUnit;
}

const pemBounded = (schema: z.ZodString) =>
  schema.refine((pem) => utf8Bytes(pem) <= CERTIFICATE_PEM_MAX_BYTES, `must be at most ${CERTIFICATE_PEM_MAX_BYTES} bytes`);
/** A PEM certificate (one or more blocks). The secrets service parses it; this only checks the framing. */
export const PemCertificate = pemBounded(
  z.string().regex(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/, 'must be a PEM certificate'),
);
/** An unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1), as IBM accepts. */
export const PemPrivateKey = pemBounded(
  z
    .string()
    .regex(/-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC )?PRIVATE KEY-----/, 'must be an unencrypted PEM private key'),
);

export const RotationUnits = ['day', 'month'] as const;
export const RotationUnit = z.enum(RotationUnits);
export type RotationUnit = z.infer<typeof RotationUnit>;

function checkRotation(
  rotation: { auto_rotate?: boolean | undefined; interval?: number | undefined; unit?: RotationUnit | undefined },
  ctx: z.RefinementCtx,
): void {
  if (rotation.auto_rotate === true) {
    if (rotation.interval === undefined) ctx.addIssue({ code: 'custom', path: ['interval'], message: 'is required when auto_rotate is true' });
    if (rotation.unit === undefined) ctx.addIssue({ code: 'custom', path: ['unit'], message: 'is required when auto_rotate is true' });
  }
  if (rotation.interval !== undefined && rotation.unit !== undefined) {
    const max = rotation.unit === 'day' ? ROTATION_MAX_DAYS : ROTATION_MAX_MONTHS;
    if (rotation.interval > max) ctx.addIssue({ code: 'custom', path: ['interval'], message: `must be at most ${max} ${rotation.unit}s` });
  }
}

const rotationFields = {
  auto_rotate: z.boolean(),
  interval: z.number().int().min(1).optional(),
  unit: RotationUnit.optional(),
};
/** A rotation policy: `{auto_rotate: false}` or `{auto_rotate: true, interval, unit}`. */
export const RotationPolicy = z.strictObject(rotationFields).superRefine(checkRotation);
export type RotationPolicy = z.infer<typeof RotationPolicy>;
/** A merge patch of a rotation policy; the merged policy is checked again with RotationPolicy. */
export const RotationPolicyPatch = z
  .strictObject({ auto_rotate: rotationFields.auto_rotate.optional(), interval: rotationFields.interval, unit: rotationFields.unit })
  .superRefine(checkRotation);


// ---------- fields every type shares ----------

/** The fields of every secret prototype (createSecret), next to `secret_type` and the type's own. */
export const prototypeCommon = {
  name: SecretName,
  description: Description.optional(),
  secret_group_id: SecretGroupId.default(DEFAULT_SECRET_GROUP_ID),
  labels: Labels.default([]),
  custom_metadata: CustomMetadata.optional(),
  version_custom_metadata: CustomMetadata.optional(),
};

/** A merge patch of a JSON object: `null` removes a key. The merged object is checked with CustomMetadata. */
export const CustomMetadataPatch = z
  .record(z.string(), z.unknown())
  .refine((value) => jsonBytes(value) <= CUSTOM_METADATA_MAX_BYTES, `must be at most ${CUSTOM_METADATA_MAX_BYTES} bytes of JSON`);

/** The fields of every metadata merge patch (updateSecretMetadata). */
export const patchCommon = {
  name: SecretName.optional(),
  description: Description.nullable().optional(),
  /** Replaces the labels (merge patch replaces arrays); `null` removes them all. */
  labels: Labels.nullable().optional(),
  custom_metadata: CustomMetadataPatch.nullable().optional(),
};

/** The fields of every version prototype (createSecretVersion). */
export const versionPrototypeCommon = {
  /** Replaces the secret's custom_metadata. */
  custom_metadata: CustomMetadata.optional(),
  version_custom_metadata: CustomMetadata.optional(),
};

/** Merge patch of a version's metadata. */
export const SecretVersionMetadataPatch = z.strictObject({
  version_custom_metadata: CustomMetadataPatch.nullable().optional(),
});
export type SecretVersionMetadataPatch = z.infer<typeof SecretVersionMetadataPatch>;

/** A rotation policy in a response. */
export const RotationPolicyOut = z.object({
  auto_rotate: z.boolean(),
  interval: z.number().int().optional(),
  unit: RotationUnit.optional(),
});
export const CertificateValidity = z.object({ not_before: DateTime, not_after: DateTime });

/** The fields of every secret's metadata (responses). */
export const metadataCommon = {
  id: z.string(),
  crn: z.string(),
  name: z.string(),
  description: z.string().optional(),
  secret_group_id: z.string(),
  labels: z.array(z.string()),
  custom_metadata: z.record(z.string(), z.unknown()).optional(),
  state: SecretState,
  state_description: SecretStateDescription,
  created_at: DateTime,
  created_by: z.string(),
  updated_at: DateTime,
  versions_total: z.number().int().min(0),
  locks_total: z.number().int().min(0),
  /** Whether the current version's data was ever read. */
  downloaded: z.boolean(),
  /** When the secret's data was last read. */
  retrieved_at: DateTime.optional(),
  referenced_by: z.array(z.string()).optional(),
};

/** The fields of every version's metadata (responses). */
export const versionMetadataCommon = {
  id: z.string(),
  secret_id: z.string(),
  secret_group_id: z.string(),
  secret_name: z.string(),
  created_at: DateTime,
  created_by: z.string(),
  /** False once the version's data was deleted; its metadata stays. */
  payload_available: z.boolean(),
  /** `current` or `previous`; older versions have none. */
  alias: VersionAlias.optional(),
  version_custom_metadata: z.record(z.string(), z.unknown()).optional(),
  downloaded: z.boolean(),
  auto_rotated: z.boolean(),
  expiration_date: DateTime.optional(),
};

// ---------- pagination ----------

export const Href = z.object({ href: z.string() });
export const paginated = {
  total_count: z.number().int().min(0),
  limit: z.number().int().min(1),
  offset: z.number().int().min(0),
  first: Href,
  last: Href,
  /** Absent on the last page: pagers stop there. */
  next: Href.optional(),
  /** Absent on the first page. */
  previous: Href.optional(),
};
export const PaginatedCollection = z.object(paginated);
export type PaginatedCollection = z.infer<typeof PaginatedCollection>;
