/**
 * Secrets Manager v2 wire shapes: what the gateway serves at `/secrets-manager/{instance_guid}/api/v2/…`
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
 * Limits (named constants below) follow IBM's published limits, with one deliberate deviation:
 * an `arbitrary` payload is capped at 512 KiB (IBM: 1 MB) so that a maximal payload, JSON-escaped in
 * a request body, still fits the gateway's default 1 MiB body limit. Sizes are UTF-8 bytes of the
 * string (or of the JSON text, for objects).
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
/** `arbitrary` payload: 512 KiB of UTF-8 (IBM: 1 MB; see the header for why we chose less). */
export const ARBITRARY_PAYLOAD_MAX_BYTES = 512 * 1024;
/** `kv` data: 512 KiB of JSON (IBM: 512 KB). */
export const KV_DATA_MAX_BYTES = 512 * 1024;
/** `imported_cert` certificate, intermediate and private key: 100 KiB of PEM each (IBM: 100 KB). */
export const CERTIFICATE_PEM_MAX_BYTES = 100 * 1024;
/** `username_password`: username 2–64, password 6–256 characters (IBM). */
export const USERNAME_MIN_LENGTH = 2;
export const USERNAME_MAX_LENGTH = 64;
export const PASSWORD_MIN_LENGTH = 6;
export const PASSWORD_MAX_LENGTH = 256;
/** Generated passwords: 12–256 characters, 32 by default (IBM). */
export const GENERATED_PASSWORD_MIN_LENGTH = 12;
export const GENERATED_PASSWORD_MAX_LENGTH = 256;
export const DEFAULT_PASSWORD_GENERATION_POLICY = {
  length: 32,
  include_digits: true,
  include_symbols: true,
  include_uppercase: true,
} as const;
/** `iam_credentials` ttl: 1 minute to 90 days (IBM). */
export const IAM_CREDENTIALS_TTL_MIN_SECONDS = 60;
export const IAM_CREDENTIALS_TTL_MAX_SECONDS = 90 * 24 * 3600;
/** `iam_credentials` access groups: 1–10 (IBM). */
export const MAX_ACCESS_GROUPS = 10;
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

/** Every `secret_type` IBM defines. */
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

/** The types Sealbox stores. A prototype of another type fails validation on `secret_type`. */
export const SecretTypes = ['arbitrary', 'username_password', 'kv', 'imported_cert', 'iam_credentials'] as const;
export const SecretType = z.enum(SecretTypes);
export type SecretType = z.infer<typeof SecretType>;

export function isSecretType(value: unknown): value is SecretType {
  return typeof value === 'string' && (SecretTypes as readonly string[]).includes(value);
}

/** Secret states (NIST SP 800-57 numbering, as IBM). */
export const SecretStates = { pre_activation: 0, active: 1, suspended: 2, deactivated: 3, destroyed: 5 } as const;
export type SecretStateDescription = keyof typeof SecretStates;
export const SecretState = z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3), z.literal(5)]);
export type SecretState = z.infer<typeof SecretState>;
export const SecretStateDescription = z.enum(['pre_activation', 'active', 'suspended', 'deactivated', 'destroyed']);

// ---------- payload fields ----------

export const ArbitraryPayload = z
  .string()
  .min(1)
  .refine((payload) => utf8Bytes(payload) <= ARBITRARY_PAYLOAD_MAX_BYTES, `must be at most ${ARBITRARY_PAYLOAD_MAX_BYTES} bytes`);

/** `kv` data: a JSON object (not an array, not a scalar) up to 512 KiB. */
export const KvData = z
  .record(z.string(), z.unknown())
  .refine((data) => jsonBytes(data) <= KV_DATA_MAX_BYTES, `must be at most ${KV_DATA_MAX_BYTES} bytes of JSON`);

export const Username = z.string().min(USERNAME_MIN_LENGTH).max(USERNAME_MAX_LENGTH);
export const Password = z.string().min(PASSWORD_MIN_LENGTH).max(PASSWORD_MAX_LENGTH);

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

/** How a generated password is made. Omitted fields take DEFAULT_PASSWORD_GENERATION_POLICY. */
export const PasswordGenerationPolicy = z.strictObject({
  length: z.number().int().min(GENERATED_PASSWORD_MIN_LENGTH).max(GENERATED_PASSWORD_MAX_LENGTH).optional(),
  include_digits: z.boolean().optional(),
  include_symbols: z.boolean().optional(),
  include_uppercase: z.boolean().optional(),
});
export type PasswordGenerationPolicy = z.infer<typeof PasswordGenerationPolicy>;

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

/** An `iam_credentials` ttl: seconds or a duration with unit s|m|h|d, from 1 minute to 90 days. */
export const Ttl = z.string().superRefine((ttl, ctx) => {
  const seconds = ttlSeconds(ttl);
  if (seconds === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be a number of seconds or a duration such as "90m", "24h" or "1d"' });
  } else if (seconds < IAM_CREDENTIALS_TTL_MIN_SECONDS || seconds > IAM_CREDENTIALS_TTL_MAX_SECONDS) {
    ctx.addIssue({ code: 'custom', message: 'must be between 1 minute and 90 days' });
  }
});

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

// ---------- secret groups ----------

export const SecretGroupPrototype = z.strictObject({
  name: SecretGroupName,
  description: Description.optional(),
});
export type SecretGroupPrototype = z.infer<typeof SecretGroupPrototype>;

/** Merge patch: `description: null` removes the description. */
export const SecretGroupPatch = z.strictObject({
  name: SecretGroupName.optional(),
  description: Description.nullable().optional(),
});
export type SecretGroupPatch = z.infer<typeof SecretGroupPatch>;

export const SecretGroup = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  created_at: DateTime,
  created_by: z.string(),
  updated_at: DateTime,
});
export type SecretGroup = z.infer<typeof SecretGroup>;

/** Not paginated (at most 201 groups). */
export const SecretGroupCollection = z.object({
  secret_groups: z.array(SecretGroup),
  total_count: z.number().int().min(0),
});
export type SecretGroupCollection = z.infer<typeof SecretGroupCollection>;

// ---------- secret prototypes (createSecret) ----------

const prototypeCommon = {
  name: SecretName,
  description: Description.optional(),
  secret_group_id: SecretGroupId.default(DEFAULT_SECRET_GROUP_ID),
  labels: Labels.default([]),
  custom_metadata: CustomMetadata.optional(),
  version_custom_metadata: CustomMetadata.optional(),
};

export const ArbitrarySecretPrototype = z.strictObject({
  secret_type: z.literal('arbitrary'),
  ...prototypeCommon,
  expiration_date: DateTime.optional(),
  payload: ArbitraryPayload,
});

export const UsernamePasswordSecretPrototype = z.strictObject({
  secret_type: z.literal('username_password'),
  ...prototypeCommon,
  expiration_date: DateTime.optional(),
  username: Username,
  /** Generated with password_generation_policy when absent. */
  password: Password.optional(),
  password_generation_policy: PasswordGenerationPolicy.optional(),
  rotation: RotationPolicy.optional(),
});

export const KvSecretPrototype = z.strictObject({
  secret_type: z.literal('kv'),
  ...prototypeCommon,
  data: KvData,
});

/** `expiration_date` and the certificate details come from the certificate itself. */
export const ImportedCertSecretPrototype = z.strictObject({
  secret_type: z.literal('imported_cert'),
  ...prototypeCommon,
  certificate: PemCertificate,
  intermediate: PemCertificate.optional(),
  private_key: PemPrivateKey.optional(),
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

export const SecretPrototype = z.discriminatedUnion('secret_type', [
  ArbitrarySecretPrototype,
  UsernamePasswordSecretPrototype,
  KvSecretPrototype,
  ImportedCertSecretPrototype,
  IamCredentialsSecretPrototype,
]);
/** A prototype as the service sees it (defaults applied). */
export type SecretPrototype = z.infer<typeof SecretPrototype>;
/** A prototype as a client writes it (defaulted fields optional). */
export type SecretPrototypeInput = z.input<typeof SecretPrototype>;

// ---------- secret metadata patches (updateSecretMetadata, merge patch) ----------

/** A merge patch of a JSON object: `null` removes a key. The merged object is checked with CustomMetadata. */
export const CustomMetadataPatch = z
  .record(z.string(), z.unknown())
  .refine((value) => jsonBytes(value) <= CUSTOM_METADATA_MAX_BYTES, `must be at most ${CUSTOM_METADATA_MAX_BYTES} bytes of JSON`);

const patchCommon = {
  name: SecretName.optional(),
  description: Description.nullable().optional(),
  /** Replaces the labels (merge patch replaces arrays); `null` removes them all. */
  labels: Labels.nullable().optional(),
  custom_metadata: CustomMetadataPatch.nullable().optional(),
};

export const ArbitrarySecretMetadataPatch = z.strictObject({ ...patchCommon, expiration_date: DateTime.nullable().optional() });
export const UsernamePasswordSecretMetadataPatch = z.strictObject({
  ...patchCommon,
  expiration_date: DateTime.nullable().optional(),
  rotation: RotationPolicyPatch.optional(),
  password_generation_policy: PasswordGenerationPolicy.optional(),
});
export const KvSecretMetadataPatch = z.strictObject(patchCommon);
export const ImportedCertSecretMetadataPatch = z.strictObject(patchCommon);
export const IamCredentialsSecretMetadataPatch = z.strictObject({
  ...patchCommon,
  ttl: Ttl.optional(),
  rotation: RotationPolicyPatch.optional(),
});

/** The metadata patch for each type: the body carries no `secret_type`, the service picks by the stored secret. */
export const SecretMetadataPatches = {
  arbitrary: ArbitrarySecretMetadataPatch,
  username_password: UsernamePasswordSecretMetadataPatch,
  kv: KvSecretMetadataPatch,
  imported_cert: ImportedCertSecretMetadataPatch,
  iam_credentials: IamCredentialsSecretMetadataPatch,
} as const satisfies Record<SecretType, z.ZodType>;
export type SecretMetadataPatch = z.infer<(typeof SecretMetadataPatches)[SecretType]>;

// ---------- secret version prototypes (createSecretVersion) ----------

const versionPrototypeCommon = {
  /** Replaces the secret's custom_metadata. */
  custom_metadata: CustomMetadata.optional(),
  version_custom_metadata: CustomMetadata.optional(),
};

export const ArbitrarySecretVersionPrototype = z.strictObject({ ...versionPrototypeCommon, payload: ArbitraryPayload });
/** A new password, or one generated with the secret's password_generation_policy. */
export const UsernamePasswordSecretVersionPrototype = z.strictObject({ ...versionPrototypeCommon, password: Password.optional() });
export const KvSecretVersionPrototype = z.strictObject({ ...versionPrototypeCommon, data: KvData });
export const ImportedCertSecretVersionPrototype = z.strictObject({
  ...versionPrototypeCommon,
  certificate: PemCertificate,
  intermediate: PemCertificate.optional(),
  private_key: PemPrivateKey.optional(),
});
/** A new API key for the secret's service ID. */
export const IamCredentialsSecretVersionPrototype = z.strictObject(versionPrototypeCommon);

/** The version prototype for each type: the body carries no `secret_type`, the service picks by the stored secret. */
export const SecretVersionPrototypes = {
  arbitrary: ArbitrarySecretVersionPrototype,
  username_password: UsernamePasswordSecretVersionPrototype,
  kv: KvSecretVersionPrototype,
  imported_cert: ImportedCertSecretVersionPrototype,
  iam_credentials: IamCredentialsSecretVersionPrototype,
} as const satisfies Record<SecretType, z.ZodType>;
export type SecretVersionPrototype = z.infer<(typeof SecretVersionPrototypes)[SecretType]>;

/** Merge patch of a version's metadata. */
export const SecretVersionMetadataPatch = z.strictObject({
  version_custom_metadata: CustomMetadataPatch.nullable().optional(),
});
export type SecretVersionMetadataPatch = z.infer<typeof SecretVersionMetadataPatch>;

// ---------- secret metadata and secrets (responses) ----------

const RotationPolicyOut = z.object({
  auto_rotate: z.boolean(),
  interval: z.number().int().optional(),
  unit: RotationUnit.optional(),
});
const PasswordGenerationPolicyOut = z.object({
  length: z.number().int(),
  include_digits: z.boolean(),
  include_symbols: z.boolean(),
  include_uppercase: z.boolean(),
});
export const CertificateValidity = z.object({ not_before: DateTime, not_after: DateTime });

const metadataCommon = {
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

const arbitraryMetadataShape = {
  secret_type: z.literal('arbitrary'),
  ...metadataCommon,
  expiration_date: DateTime.optional(),
};
const usernamePasswordMetadataShape = {
  secret_type: z.literal('username_password'),
  ...metadataCommon,
  expiration_date: DateTime.optional(),
  rotation: RotationPolicyOut,
  password_generation_policy: PasswordGenerationPolicyOut,
  next_rotation_date: DateTime.optional(),
};
const kvMetadataShape = { secret_type: z.literal('kv'), ...metadataCommon };
const importedCertDetails = {
  common_name: z.string().optional(),
  issuer: z.string(),
  serial_number: z.string(),
  validity: CertificateValidity,
  /** validity.not_after. */
  expiration_date: DateTime,
  key_algorithm: z.string().optional(),
  signing_algorithm: z.string().optional(),
  alt_names: z.array(z.string()).optional(),
};
const importedCertMetadataShape = {
  secret_type: z.literal('imported_cert'),
  ...metadataCommon,
  ...importedCertDetails,
  intermediate_included: z.boolean(),
  private_key_included: z.boolean(),
};
const iamCredentialsMetadataShape = {
  secret_type: z.literal('iam_credentials'),
  ...metadataCommon,
  ttl: z.string(),
  reuse_api_key: z.boolean(),
  service_id: z.string().optional(),
  service_id_is_static: z.boolean().optional(),
  access_groups: z.array(z.string()).optional(),
  account_id: z.string().optional(),
  rotation: RotationPolicyOut.optional(),
  next_rotation_date: DateTime.optional(),
};

export const ArbitrarySecretMetadata = z.object(arbitraryMetadataShape);
export const UsernamePasswordSecretMetadata = z.object(usernamePasswordMetadataShape);
export const KvSecretMetadata = z.object(kvMetadataShape);
export const ImportedCertSecretMetadata = z.object(importedCertMetadataShape);
export const IamCredentialsSecretMetadata = z.object(iamCredentialsMetadataShape);

export const SecretMetadata = z.discriminatedUnion('secret_type', [
  ArbitrarySecretMetadata,
  UsernamePasswordSecretMetadata,
  KvSecretMetadata,
  ImportedCertSecretMetadata,
  IamCredentialsSecretMetadata,
]);
export type SecretMetadata = z.infer<typeof SecretMetadata>;

export const ArbitrarySecret = z.object({ ...arbitraryMetadataShape, payload: z.string() });
export const UsernamePasswordSecret = z.object({ ...usernamePasswordMetadataShape, username: z.string(), password: z.string() });
export const KvSecret = z.object({ ...kvMetadataShape, data: z.record(z.string(), z.unknown()) });
export const ImportedCertSecret = z.object({
  ...importedCertMetadataShape,
  certificate: z.string(),
  intermediate: z.string().optional(),
  private_key: z.string().optional(),
});
export const IamCredentialsSecret = z.object({
  ...iamCredentialsMetadataShape,
  api_key: z.string().optional(),
  api_key_id: z.string().optional(),
});

/** A secret with the payload of its current version. */
export const Secret = z.discriminatedUnion('secret_type', [
  ArbitrarySecret,
  UsernamePasswordSecret,
  KvSecret,
  ImportedCertSecret,
  IamCredentialsSecret,
]);
export type Secret = z.infer<typeof Secret>;

// ---------- versions (responses) ----------

const versionMetadataCommon = {
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

const arbitraryVersionShape = { secret_type: z.literal('arbitrary'), ...versionMetadataCommon };
const usernamePasswordVersionShape = { secret_type: z.literal('username_password'), ...versionMetadataCommon };
const kvVersionShape = { secret_type: z.literal('kv'), ...versionMetadataCommon };
const importedCertVersionShape = {
  secret_type: z.literal('imported_cert'),
  ...versionMetadataCommon,
  ...importedCertDetails,
};
const iamCredentialsVersionShape = {
  secret_type: z.literal('iam_credentials'),
  ...versionMetadataCommon,
  api_key_id: z.string().optional(),
  service_id: z.string().optional(),
};

export const SecretVersionMetadata = z.discriminatedUnion('secret_type', [
  z.object(arbitraryVersionShape),
  z.object(usernamePasswordVersionShape),
  z.object(kvVersionShape),
  z.object(importedCertVersionShape),
  z.object(iamCredentialsVersionShape),
]);
export type SecretVersionMetadata = z.infer<typeof SecretVersionMetadata>;

/** A version with its payload; the payload fields are absent when `payload_available` is false. */
export const SecretVersion = z.discriminatedUnion('secret_type', [
  z.object({ ...arbitraryVersionShape, payload: z.string().optional() }),
  z.object({ ...usernamePasswordVersionShape, username: z.string().optional(), password: z.string().optional() }),
  z.object({ ...kvVersionShape, data: z.record(z.string(), z.unknown()).optional() }),
  z.object({
    ...importedCertVersionShape,
    certificate: z.string().optional(),
    intermediate: z.string().optional(),
    private_key: z.string().optional(),
  }),
  z.object({ ...iamCredentialsVersionShape, api_key: z.string().optional() }),
]);
export type SecretVersion = z.infer<typeof SecretVersion>;

/** Not paginated. */
export const SecretVersionMetadataCollection = z.object({
  versions: z.array(SecretVersionMetadata),
  total_count: z.number().int().min(0),
});
export type SecretVersionMetadataCollection = z.infer<typeof SecretVersionMetadataCollection>;

// ---------- locks ----------

export const LockName = z.string().regex(LOCK_NAME_PATTERN, 'must be a letter then 1 to 63 letters, digits, "-", "_" or "."');

export const SecretLockPrototype = z.strictObject({
  name: LockName,
  description: Description.optional(),
  attributes: CustomMetadata.optional(),
});
export type SecretLockPrototype = z.infer<typeof SecretLockPrototype>;

/** Body of createSecretLocksBulk / createSecretVersionLocksBulk. A lock of the same name on the version is replaced. */
export const SecretLocksPrototype = z.strictObject({
  locks: z
    .array(SecretLockPrototype)
    .min(1)
    .max(MAX_LOCKS_PER_VERSION)
    .superRefine((locks, ctx) => {
      const seen = new Set<string>();
      locks.forEach((lock, index) => {
        if (seen.has(lock.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `duplicate lock name "${lock.name}"` });
        seen.add(lock.name);
      });
    }),
});
export type SecretLocksPrototype = z.infer<typeof SecretLocksPrototype>;

/**
 * `remove_previous`: also remove locks of the same names from the previous version;
 * `remove_previous_and_delete`: that, and delete the previous version's data when it has no lock left.
 */
export const LockModes = ['remove_previous', 'remove_previous_and_delete'] as const;
export const LockMode = z.enum(LockModes);
export type LockMode = z.infer<typeof LockMode>;

export const SecretLock = z.object({
  name: z.string(),
  description: z.string().optional(),
  attributes: z.record(z.string(), z.unknown()).optional(),
  created_at: DateTime,
  updated_at: DateTime,
  created_by: z.string(),
  secret_group_id: z.string(),
  secret_id: z.string(),
  secret_version_id: z.string(),
  secret_version_alias: VersionAlias.optional(),
});
export type SecretLock = z.infer<typeof SecretLock>;

export const SecretVersionLocks = z.object({
  version_id: z.string(),
  version_alias: VersionAlias.optional(),
  locks: z.array(z.string()),
  payload_available: z.boolean().optional(),
});

/** The locks of a secret's versions: the answer to the bulk operations, and one row of `secrets_locks`. */
export const SecretLocks = z.object({
  secret_id: z.string(),
  secret_group_id: z.string(),
  secret_type: IbmSecretType.optional(),
  secret_name: z.string().optional(),
  versions: z.array(SecretVersionLocks),
});
export type SecretLocks = z.infer<typeof SecretLocks>;

// ---------- pagination ----------

export const Href = z.object({ href: z.string() });
const paginated = {
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

export const SecretMetadataPaginatedCollection = z.object({ ...paginated, secrets: z.array(SecretMetadata) });
export type SecretMetadataPaginatedCollection = z.infer<typeof SecretMetadataPaginatedCollection>;
export const SecretLocksPaginatedCollection = z.object({ ...paginated, locks: z.array(SecretLock) });
export type SecretLocksPaginatedCollection = z.infer<typeof SecretLocksPaginatedCollection>;
export const SecretsLocksPaginatedCollection = z.object({ ...paginated, secrets_locks: z.array(SecretLocks) });
export type SecretsLocksPaginatedCollection = z.infer<typeof SecretsLocksPaginatedCollection>;

// ---------- query strings ----------

/** A whole number from a query string (digits only), or a number. */
const queryInt = z.preprocess((value) => (typeof value === 'string' && /^-?[0-9]{1,15}$/.test(value) ? Number(value) : value), z.number().int());
/** A comma-joined list from a query string, or an array. */
const queryList = <T extends z.ZodType>(item: T, max: number) =>
  z.preprocess((value) => (typeof value === 'string' ? value.split(',') : value), z.array(item).min(1).max(max));
const queryOffset = queryInt.pipe(z.number().min(0)).default(0);
const queryLimit = (max: number, fallback: number) => queryInt.pipe(z.number().min(1).max(max)).default(fallback);
const querySearch = z.string().min(1).max(SEARCH_MAX_LENGTH);
const queryBoolean = z.preprocess((value) => (value === 'true' ? true : value === 'false' ? false : value), z.boolean());

export const SecretSortFields = ['id', 'name', 'created_at', 'updated_at', 'retrieved_at', 'expiration_date', 'secret_type'] as const;
export type SecretSortField = (typeof SecretSortFields)[number];
/** `sort` of listSecrets: a field, ascending, or `-field`, descending. */
export const SecretSort = z.enum([
  'id',
  '-id',
  'name',
  '-name',
  'created_at',
  '-created_at',
  'updated_at',
  '-updated_at',
  'retrieved_at',
  '-retrieved_at',
  'expiration_date',
  '-expiration_date',
  'secret_type',
  '-secret_type',
]);
export type SecretSort = z.infer<typeof SecretSort>;

export const LockSort = z.enum(['name', '-name', 'created_at', '-created_at', 'updated_at', '-updated_at']);
export type LockSort = z.infer<typeof LockSort>;

/** Query of listSecrets. */
export const ListSecretsQuery = z.object({
  offset: queryOffset,
  limit: queryLimit(LIST_SECRETS_MAX_LIMIT, LIST_SECRETS_DEFAULT_LIMIT),
  sort: SecretSort.optional(),
  /** Substring of id, name, description, labels or secret_type. */
  search: querySearch.optional(),
  groups: queryList(SecretGroupId, MAX_GROUPS_FILTER).optional(),
  secret_types: queryList(IbmSecretType, IbmSecretTypes.length).optional(),
  /** Secrets carrying every one of these labels. */
  match_all_labels: queryList(Label, MAX_LABELS).optional(),
});
export type ListSecretsQuery = z.infer<typeof ListSecretsQuery>;

/** Query of listSecretLocks and listSecretVersionLocks. */
export const ListLocksQuery = z.object({
  offset: queryOffset,
  limit: queryLimit(LIST_LOCKS_MAX_LIMIT, LIST_LOCKS_DEFAULT_LIMIT),
  sort: LockSort.optional(),
  /** Substring of the lock name. */
  search: querySearch.optional(),
});
export type ListLocksQuery = z.infer<typeof ListLocksQuery>;

/** Query of listSecretsLocks (every secret with locks in the instance). */
export const ListSecretsLocksQuery = z.object({
  offset: queryOffset,
  limit: queryLimit(LIST_SECRETS_MAX_LIMIT, LIST_SECRETS_DEFAULT_LIMIT),
  search: querySearch.optional(),
  groups: queryList(SecretGroupId, MAX_GROUPS_FILTER).optional(),
});
export type ListSecretsLocksQuery = z.infer<typeof ListSecretsLocksQuery>;

export const CreateLocksQuery = z.object({ mode: LockMode.optional() });
export type CreateLocksQuery = z.infer<typeof CreateLocksQuery>;

/** Query of the bulk lock deletes: the names to delete; all locks of the version when omitted. */
export const DeleteLocksQuery = z.object({ name: queryList(LockName, MAX_LOCKS_PER_VERSION).optional() });
export type DeleteLocksQuery = z.infer<typeof DeleteLocksQuery>;

/** Query of deleteSecret. `force_delete` only applies to IBM's custom_credentials. */
export const DeleteSecretQuery = z.object({ force_delete: queryBoolean.optional() });

// ---------- errors ----------

/** The IBM Cloud error body of every non-2xx answer. */
export const ErrorBody = z.object({
  errors: z
    .array(
      z.object({
        code: z.string(),
        message: z.string(),
        target: z.object({ type: z.enum(['field', 'header', 'parameter']), name: z.string() }).optional(),
      }),
    )
    .min(1),
  status_code: z.number().int(),
  trace: z.string(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

// ---------- operations Sealbox does not implement (shapes kept loose) ----------
// Secret and version actions, tasks, configurations and Event Notifications registrations are part of
// IBM's v2 surface; the client can call them (the server answers NOT_IMPLEMENTED), so only their
// identifying fields are typed.

export const SecretActionPrototype = z.looseObject({ action_type: z.string() });
export type SecretActionPrototype = z.infer<typeof SecretActionPrototype>;
export const SecretAction = z.looseObject({ action_type: z.string() });
export type SecretAction = z.infer<typeof SecretAction>;

export const SecretTask = z.looseObject({ id: z.string(), status: z.string().optional() });
export type SecretTask = z.infer<typeof SecretTask>;
export const SecretTaskPrototype = z.looseObject({ status: z.string() });
export type SecretTaskPrototype = z.infer<typeof SecretTaskPrototype>;
export const SecretTaskCollection = z.looseObject({ tasks: z.array(SecretTask) });
export type SecretTaskCollection = z.infer<typeof SecretTaskCollection>;

export const ConfigurationPrototype = z.looseObject({ config_type: z.string(), name: z.string() });
export type ConfigurationPrototype = z.infer<typeof ConfigurationPrototype>;
export const Configuration = z.looseObject({ config_type: z.string(), name: z.string() });
export type Configuration = z.infer<typeof Configuration>;
export const ConfigurationPaginatedCollection = z.object({ ...paginated, configurations: z.array(Configuration) });
export type ConfigurationPaginatedCollection = z.infer<typeof ConfigurationPaginatedCollection>;
export const ConfigurationActionPrototype = z.looseObject({ action_type: z.string() });
export type ConfigurationActionPrototype = z.infer<typeof ConfigurationActionPrototype>;
export const ConfigurationAction = z.looseObject({ action_type: z.string() });
export type ConfigurationAction = z.infer<typeof ConfigurationAction>;

export const NotificationsRegistrationPrototype = z.strictObject({
  event_notifications_instance_crn: z.string().min(9).max(512),
  event_notifications_source_name: z.string().min(2).max(256),
  event_notifications_source_description: Description.optional(),
});
export type NotificationsRegistrationPrototype = z.infer<typeof NotificationsRegistrationPrototype>;
export const NotificationsRegistration = z.object({ event_notifications_instance_crn: z.string() });
export type NotificationsRegistration = z.infer<typeof NotificationsRegistration>;

// ---------- service requests (NATS): instance registry and secret groups ----------

/** A secrets instance is `active` or `disabled`; a disabled one answers INSTANCE_NOT_ACTIVE. */
export const InstanceStates = ['active', 'disabled'] as const;
export const InstanceState = z.enum(InstanceStates);
export type InstanceState = z.infer<typeof InstanceState>;

const AccountId = z.string().min(1).max(64);

/** `secrets.instance.activate` (lifecycle, when provisioning): idempotent for the same account. */
export const ActivateInstanceRequest = z.strictObject({
  accountId: AccountId,
  instanceGuid: Uuid,
  crn: z.string().min(1).max(512),
  region: z.string().min(1).max(64),
  /** `accountId`: the key's account when it is not the instance's (provider-managed encryption). */
  kmsKey: z.strictObject({ instanceId: z.string().min(1).max(64), keyId: z.string().min(1).max(64), accountId: AccountId.optional() }),
});
export type ActivateInstanceRequest = z.infer<typeof ActivateInstanceRequest>;

export const InstanceRef = z.strictObject({ instanceGuid: Uuid });
export type InstanceRef = z.infer<typeof InstanceRef>;

export const SetInstanceStateRequest = z.strictObject({ instanceGuid: Uuid, state: InstanceState });
export type SetInstanceStateRequest = z.infer<typeof SetInstanceStateRequest>;

/** An instance as the registry records it (service-to-service; never user-facing). */
export const SecretsInstance = z.object({
  accountId: z.string(),
  instanceGuid: z.string(),
  crn: z.string(),
  region: z.string(),
  kmsKey: z.object({ instanceId: z.string(), keyId: z.string(), accountId: z.string().optional() }),
  state: InstanceState,
  createdAt: DateTime,
  updatedAt: DateTime,
});
export type SecretsInstance = z.infer<typeof SecretsInstance>;

/** `secrets.group.create`: the prototype's fields plus the instance. */
export const CreateSecretGroupRequest = SecretGroupPrototype.extend({ instanceGuid: Uuid });
export type CreateSecretGroupRequest = z.infer<typeof CreateSecretGroupRequest>;

export const ListSecretGroupsRequest = z.strictObject({ instanceGuid: Uuid });
export type ListSecretGroupsRequest = z.infer<typeof ListSecretGroupsRequest>;

export const SecretGroupRef = z.strictObject({ instanceGuid: Uuid, id: SecretGroupId });
export type SecretGroupRef = z.infer<typeof SecretGroupRef>;

/** `secrets.group.update`: the merge patch's fields plus the group (absent: unchanged; `description: null`: removed). */
export const UpdateSecretGroupRequest = SecretGroupPatch.extend({ instanceGuid: Uuid, id: SecretGroupId });
export type UpdateSecretGroupRequest = z.infer<typeof UpdateSecretGroupRequest>;

export const Empty = z.object({}).strict();
export type Empty = z.infer<typeof Empty>;

// ---------- service requests (NATS): secrets, versions, locks ----------
//
// The gateway checks an HTTP body against the public schema (SecretPrototype, the type's patch, …)
// so that a bad field is named as the client wrote it, then wraps it in one of these requests. A
// body whose schema depends on the stored secret's type (metadata patch, version prototype) travels
// as a JSON object and is checked by the service against SecretMetadataPatches / SecretVersionPrototypes.

const JsonObject = z.record(z.string(), z.unknown());

export const CreateSecretRequest = z.strictObject({ instanceGuid: Uuid, secret: SecretPrototype });
export type CreateSecretRequest = z.infer<typeof CreateSecretRequest>;

export const SecretRef = z.strictObject({ instanceGuid: Uuid, id: SecretId });
export type SecretRef = z.infer<typeof SecretRef>;

/** getSecretByNameType: `/secret_groups/{secret_group_name}/secret_types/{secret_type}/secrets/{name}`. */
export const SecretByNameRequest = z.strictObject({
  instanceGuid: Uuid,
  groupName: z.string().min(1).max(SECRET_GROUP_NAME_MAX_LENGTH),
  secretType: IbmSecretType,
  name: SecretName,
});
export type SecretByNameRequest = z.infer<typeof SecretByNameRequest>;

/** updateSecretMetadata: `patch` is checked against SecretMetadataPatches[type of the stored secret]. */
export const UpdateSecretMetadataRequest = z.strictObject({ instanceGuid: Uuid, id: SecretId, patch: JsonObject });
export type UpdateSecretMetadataRequest = z.infer<typeof UpdateSecretMetadataRequest>;

/** listSecrets. `path` is the list's URL path as the client called it: the page links repeat it. */
export const ListSecretsRequest = z.strictObject({ instanceGuid: Uuid, path: z.string().min(1).max(512), query: ListSecretsQuery });
export type ListSecretsRequest = z.infer<typeof ListSecretsRequest>;

/** createSecretVersion: `version` is checked against SecretVersionPrototypes[type of the stored secret]. */
export const CreateSecretVersionRequest = z.strictObject({ instanceGuid: Uuid, secretId: SecretId, version: JsonObject });
export type CreateSecretVersionRequest = z.infer<typeof CreateSecretVersionRequest>;

export const SecretVersionsRef = z.strictObject({ instanceGuid: Uuid, secretId: SecretId });
export type SecretVersionsRef = z.infer<typeof SecretVersionsRef>;

/** One version: by id, or `current` / `previous`. */
export const SecretVersionRef = z.strictObject({ instanceGuid: Uuid, secretId: SecretId, id: SecretVersionId });
export type SecretVersionRef = z.infer<typeof SecretVersionRef>;

export const UpdateSecretVersionMetadataRequest = SecretVersionRef.extend({ patch: SecretVersionMetadataPatch });
export type UpdateSecretVersionMetadataRequest = z.infer<typeof UpdateSecretVersionMetadataRequest>;

/** createSecretLocksBulk (no versionId: the current version) / createSecretVersionLocksBulk. */
export const CreateLocksRequest = z.strictObject({
  instanceGuid: Uuid,
  secretId: SecretId,
  versionId: SecretVersionId.optional(),
  locks: SecretLocksPrototype.shape.locks,
  mode: LockMode.optional(),
});
export type CreateLocksRequest = z.infer<typeof CreateLocksRequest>;

/** deleteSecretLocksBulk / deleteSecretVersionLocksBulk: the named locks, or all of them when `names` is absent. */
export const DeleteLocksRequest = z.strictObject({
  instanceGuid: Uuid,
  secretId: SecretId,
  versionId: SecretVersionId.optional(),
  names: z.array(LockName).min(1).max(MAX_LOCKS_PER_VERSION).optional(),
});
export type DeleteLocksRequest = z.infer<typeof DeleteLocksRequest>;

/** listSecretLocks (no versionId: every version of the secret) / listSecretVersionLocks. */
export const ListLocksRequest = z.strictObject({
  instanceGuid: Uuid,
  secretId: SecretId,
  versionId: SecretVersionId.optional(),
  path: z.string().min(1).max(512),
  query: ListLocksQuery,
});
export type ListLocksRequest = z.infer<typeof ListLocksRequest>;

/** listSecretsLocks: every secret of the instance that has locks. */
export const ListSecretsLocksRequest = z.strictObject({ instanceGuid: Uuid, path: z.string().min(1).max(512), query: ListSecretsLocksQuery });
export type ListSecretsLocksRequest = z.infer<typeof ListSecretsLocksRequest>;

/** `secrets.instance.purge` (lifecycle, permanent delete): every row of the instance is removed. Idempotent. */
export const PurgeInstanceResponse = z.object({ secrets: z.number().int().min(0), versions: z.number().int().min(0) });
export type PurgeInstanceResponse = z.infer<typeof PurgeInstanceResponse>;
