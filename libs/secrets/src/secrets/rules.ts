/**
 * Pure rules of secrets and versions: payloads, merge patches, rotation dates, aliases and the wire
 * shapes. No database, no clock, no I/O.
 */
import { randomBytes } from 'node:crypto';
import { SecretsWire } from '@sealbox/contracts';
import { conflict, fieldIssuesOf, validationFailed } from '@sealbox/platform';
import type { z } from 'zod';
import { secretCrn } from '../domain/context.js';
import type { ImportedCertDetails } from '../domain/certificate.js';
import { resolvePasswordPolicy, type ResolvedPasswordPolicy } from '../domain/password.js';
import type { SecretEntity, SecretVersionEntity } from './entities.js';

type SecretType = SecretsWire.SecretType;
type RotationPolicy = SecretsWire.RotationPolicy;

const iso = (ms: number) => new Date(ms).toISOString();

// ---------- validation ----------

/** Parse with a contract schema; a failure is VALIDATION_FAILED naming each field (under `prefix` when given). */
export function parseOrFail<S extends z.ZodType>(schema: S, value: unknown, prefix?: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = fieldIssuesOf(parsed.error);
  throw validationFailed(prefix === undefined ? issues : issues.map((issue) => ({ ...issue, field: issue.field === '(root)' ? prefix : `${prefix}.${issue.field}` })));
}

export const fieldError = (field: string, message: string) => validationFailed([{ field, message }]);

/** A secret's name is unique per group and type (getSecretByNameType names all three). */
export const secretNameTaken = (name: string, type: string, groupId: string) =>
  conflict(`A ${type} secret named "${name}" already exists in secret group ${groupId}`);

/** 409 naming the locks that keep a secret or version from being deleted. */
export function lockedConflict(what: string, locks: ReadonlyMap<string, readonly string[]>): Error {
  const named = [...locks.entries()].map(([versionId, names]) => `version ${versionId}: ${names.join(', ')}`).join('; ');
  return conflict(`${what} is locked (${named}): remove the locks first`);
}

/** An expiration date must lie in the future. */
export function checkExpiration(expirationDate: string | undefined | null, now: number, field = 'expiration_date'): number | null {
  if (expirationDate === undefined || expirationDate === null) return null;
  const at = Date.parse(expirationDate);
  if (!(at > now)) throw fieldError(field, 'must be in the future');
  return at;
}

// ---------- ids ----------

/**
 * A UUID version 7: the first 48 bits are `nowMs`, the rest random (node:crypto). Version ids carry
 * their creation time this way, so the orphan sweep can tell an object being created (younger than
 * the grace age) from an orphan without asking the store for timestamps.
 */
export function uuidV7(nowMs: number): string {
  const bytes = randomBytes(16);
  const time = BigInt(Math.max(0, Math.floor(nowMs)));
  for (let index = 0; index < 6; index += 1) bytes[index] = Number((time >> BigInt(8 * (5 - index))) & 0xffn);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The creation time of a UUID v7, or undefined for any other id. */
export function uuidV7Time(id: string): number | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)) return undefined;
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

// ---------- payloads ----------

/** What one version seals: the type's payload fields. Never stored or logged in clear. */
export type VersionPayload =
  | { readonly payload: string }
  | { readonly username: string; readonly password: string }
  | { readonly data: Record<string, unknown> }
  | { readonly certificate: string; readonly intermediate?: string; readonly private_key?: string }
  | { readonly api_key: string };

/** The plaintext of a version: the JSON of its payload fields, base64 for crypto.envelope.seal. */
export function plaintextOf(payload: VersionPayload): Buffer {
  return Buffer.from(JSON.stringify(payload), 'utf8');
}

/** A version's payload from an opened envelope (UTF-8 JSON); only the type's fields are kept. The bytes are zeroed. */
export function payloadFromPlaintext(type: SecretType, plaintext: Uint8Array): VersionPayload {
  const bytes = Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
  const json = bytes.toString('utf8');
  bytes.fill(0);
  const value = JSON.parse(json) as Record<string, unknown>;
  const text = (name: string) => (typeof value[name] === 'string' ? (value[name] as string) : undefined);
  switch (type) {
    case 'arbitrary':
      return { payload: text('payload') ?? '' };
    case 'username_password':
      return { username: text('username') ?? '', password: text('password') ?? '' };
    case 'kv':
      return { data: (value['data'] ?? {}) as Record<string, unknown> };
    case 'imported_cert': {
      const intermediate = text('intermediate');
      const privateKey = text('private_key');
      return {
        certificate: text('certificate') ?? '',
        ...(intermediate === undefined ? {} : { intermediate }),
        ...(privateKey === undefined ? {} : { private_key: privateKey }),
      };
    }
    case 'iam_credentials':
      return { api_key: text('api_key') ?? '' };
  }
}

/** The PEM fields of an imported certificate as stored: blank optional fields are left out. */
export function certificatePayload(input: { certificate: string; intermediate?: string | undefined; private_key?: string | undefined }): VersionPayload {
  return {
    certificate: input.certificate,
    ...(input.intermediate?.trim() ? { intermediate: input.intermediate } : {}),
    ...(input.private_key?.trim() ? { private_key: input.private_key } : {}),
  };
}

// ---------- merge patches ----------

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** RFC 7396 JSON merge patch: `null` removes a member, objects merge recursively, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** A custom metadata object after a merge patch (`null`: removed), checked against the size limit. */
export function patchedCustomMetadata(
  current: Record<string, unknown> | null,
  patch: Record<string, unknown> | null | undefined,
  field: string,
): Record<string, unknown> | null {
  if (patch === undefined) return current;
  if (patch === null) return null;
  const merged = mergePatch(current ?? {}, patch) as Record<string, unknown>;
  parseOrFail(SecretsWire.CustomMetadata, merged, field);
  return Object.keys(merged).length === 0 ? null : merged;
}

// ---------- type details ----------

export interface UsernamePasswordDetails {
  readonly rotation: RotationPolicy;
  readonly password_generation_policy: ResolvedPasswordPolicy;
}

export interface IamCredentialsDetails {
  readonly ttl: string;
  readonly reuse_api_key: boolean;
  readonly service_id: string;
  readonly access_groups?: readonly string[];
  readonly account_id?: string;
  readonly rotation?: RotationPolicy;
}

export type CertificateDetails = ImportedCertDetails;

/** Version details: the certificate's (imported_cert) or the API key's id and service ID (iam_credentials). */
export interface IamVersionDetails {
  readonly api_key_id: string;
  readonly service_id: string;
}

export const NO_ROTATION: RotationPolicy = { auto_rotate: false };

/** The rotation policy recorded in a secret's details (username_password, iam_credentials). */
export function rotationOf(details: Record<string, unknown>): RotationPolicy | undefined {
  return details['rotation'] as RotationPolicy | undefined;
}

/** When a secret with `policy` rotates next, counted from `fromMs` (a version's creation, or the policy change); null when it does not. */
export function nextRotationAt(policy: RotationPolicy | undefined, fromMs: number): number | null {
  if (!policy?.auto_rotate || policy.interval === undefined || policy.unit === undefined) return null;
  if (policy.unit === 'day') return fromMs + policy.interval * 86_400_000;
  const date = new Date(fromMs);
  const day = date.getUTCDate();
  date.setUTCDate(1);
  date.setUTCMonth(date.getUTCMonth() + policy.interval);
  // The same day of the month, or the month's last day (Jan 31 + 1 month = Feb 28/29).
  const lastDay = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
  date.setUTCDate(Math.min(day, lastDay));
  return date.getTime();
}

/** A rotation policy after a merge patch, checked again as a whole (`rotation.interval` is required with auto_rotate). */
export function patchedRotation(current: RotationPolicy | undefined, patch: Record<string, unknown>): RotationPolicy {
  const merged = mergePatch(current ?? NO_ROTATION, patch);
  return parseOrFail(SecretsWire.RotationPolicy, merged, 'rotation');
}

// ---------- aliases ----------

/** `current` for the newest version, `previous` for the one before, none for older ones. */
export function aliasOf(secret: Pick<SecretEntity, 'currentOrdinal'>, version: Pick<SecretVersionEntity, 'ordinal'>): SecretsWire.VersionAlias | undefined {
  if (version.ordinal === secret.currentOrdinal) return 'current';
  if (version.ordinal === secret.currentOrdinal - 1) return 'previous';
  return undefined;
}

/** The ordinal a version reference names: an alias, or undefined for a version id. */
export function ordinalOfAlias(secret: Pick<SecretEntity, 'currentOrdinal'>, ref: string): number | undefined {
  if (ref === 'current') return secret.currentOrdinal;
  if (ref === 'previous') return secret.currentOrdinal - 1;
  return undefined;
}

// ---------- wire shapes ----------

const stateDescriptions = Object.fromEntries(Object.entries(SecretsWire.SecretStates).map(([name, value]) => [value, name])) as Record<
  number,
  SecretsWire.SecretStateDescription
>;

/** A secret's metadata as IBM returns it. */
export function toWireMetadata(row: SecretEntity, instanceCrn: string, locksTotal: number): SecretsWire.SecretMetadata {
  const common = {
    id: row.id,
    crn: secretCrn(instanceCrn, row.id),
    name: row.name,
    ...(row.description !== null ? { description: row.description } : {}),
    secret_group_id: row.groupId,
    labels: row.labels,
    ...(row.customMetadata !== null ? { custom_metadata: row.customMetadata } : {}),
    state: row.state as SecretsWire.SecretState,
    state_description: stateDescriptions[row.state] ?? 'active',
    created_at: iso(row.createdAt),
    created_by: row.createdBy,
    updated_at: iso(row.updatedAt),
    versions_total: row.versionsTotal,
    locks_total: locksTotal,
    downloaded: row.downloaded,
    ...(row.retrievedAt !== null ? { retrieved_at: iso(row.retrievedAt) } : {}),
  };
  const expiration = row.expirationAt !== null ? { expiration_date: iso(row.expirationAt) } : {};
  const nextRotation = row.nextRotationAt !== null ? { next_rotation_date: iso(row.nextRotationAt) } : {};
  const type = row.secretType as SecretType;
  switch (type) {
    case 'arbitrary':
      return { secret_type: type, ...common, ...expiration };
    case 'kv':
      return { secret_type: type, ...common };
    case 'username_password': {
      const details = row.details as unknown as UsernamePasswordDetails;
      return {
        secret_type: type,
        ...common,
        ...expiration,
        rotation: details.rotation,
        password_generation_policy: details.password_generation_policy,
        ...nextRotation,
      };
    }
    case 'imported_cert': {
      const details = row.details as unknown as CertificateDetails;
      return { secret_type: type, ...common, ...details, alt_names: [...details.alt_names] };
    }
    case 'iam_credentials': {
      const details = row.details as unknown as IamCredentialsDetails;
      return {
        secret_type: type,
        ...common,
        ttl: details.ttl,
        reuse_api_key: details.reuse_api_key,
        service_id: details.service_id,
        service_id_is_static: true,
        ...(details.access_groups ? { access_groups: [...details.access_groups] } : {}),
        ...(details.account_id ? { account_id: details.account_id } : {}),
        ...(details.rotation ? { rotation: details.rotation } : {}),
        ...nextRotation,
      };
    }
  }
}

/** The payload fields a response carries for a version's payload (iam: the key's id comes from the version). */
function payloadFields(type: SecretType, payload: VersionPayload | undefined, version: SecretVersionEntity | undefined): Record<string, unknown> {
  if (type === 'iam_credentials') {
    const apiKeyId = (version?.details as Partial<IamVersionDetails> | undefined)?.api_key_id;
    return { ...(payload ?? {}), ...(apiKeyId ? { api_key_id: apiKeyId } : {}) };
  }
  return { ...(payload ?? {}) };
}

/**
 * A secret with its current version's payload. When the current version's data was deleted the
 * payload fields are absent (as on a version).
 */
export function toWireSecret(
  row: SecretEntity,
  instanceCrn: string,
  locksTotal: number,
  current: SecretVersionEntity | undefined,
  payload: VersionPayload | undefined,
): SecretsWire.Secret {
  return { ...toWireMetadata(row, instanceCrn, locksTotal), ...payloadFields(row.secretType as SecretType, payload, current) } as SecretsWire.Secret;
}

/** A version's metadata. */
export function toWireVersionMetadata(secret: SecretEntity, version: SecretVersionEntity): SecretsWire.SecretVersionMetadata {
  const alias = aliasOf(secret, version);
  const common = {
    id: version.id,
    secret_id: secret.id,
    secret_group_id: secret.groupId,
    secret_name: secret.name,
    created_at: iso(version.createdAt),
    created_by: version.createdBy,
    payload_available: version.payloadAvailable,
    ...(alias ? { alias } : {}),
    ...(version.versionCustomMetadata !== null ? { version_custom_metadata: version.versionCustomMetadata } : {}),
    downloaded: version.downloaded,
    auto_rotated: version.autoRotated,
    ...(version.expirationAt !== null ? { expiration_date: iso(version.expirationAt) } : {}),
  };
  const type = secret.secretType as SecretType;
  switch (type) {
    case 'arbitrary':
    case 'username_password':
    case 'kv':
      return { secret_type: type, ...common };
    case 'imported_cert': {
      const { intermediate_included: _intermediate, private_key_included: _privateKey, ...details } = version.details as unknown as CertificateDetails;
      return { secret_type: type, ...common, ...details, alt_names: [...details.alt_names] };
    }
    case 'iam_credentials': {
      const details = version.details as unknown as IamVersionDetails;
      return { secret_type: type, ...common, api_key_id: details.api_key_id, service_id: details.service_id };
    }
  }
}

/** A version with its payload; the payload fields are absent when its data was deleted. */
export function toWireVersion(secret: SecretEntity, version: SecretVersionEntity, payload: VersionPayload | undefined): SecretsWire.SecretVersion {
  const metadata = toWireVersionMetadata(secret, version);
  const fields = payload === undefined ? {} : payloadFields(secret.secretType as SecretType, payload, undefined);
  return { ...metadata, ...fields } as SecretsWire.SecretVersion;
}

// ---------- metadata patches ----------

/** The columns a metadata patch changes. */
export interface MetadataChanges {
  name: string;
  description: string | null;
  labels: string[];
  customMetadata: Record<string, unknown> | null;
  expirationAt: number | null;
  expiryNotice?: 0;
  details: Record<string, unknown>;
  nextRotationAt: number | null;
  updatedAt: number;
}

/**
 * A secret after a merge patch already checked against SecretMetadataPatches[type]: absent members
 * keep their value, `null` removes (description, labels, custom_metadata, expiration_date), objects
 * merge (custom_metadata, rotation, password_generation_policy). A changed rotation policy counts
 * its next date from `now`; a changed expiration date owes its notices again.
 */
export function metadataChanges(secret: SecretEntity, patch: Record<string, unknown>, now: number): MetadataChanges {
  const details: Record<string, unknown> = { ...secret.details };
  let expirationAt = secret.expirationAt;
  let nextRotation = secret.nextRotationAt;
  if ('expiration_date' in patch && patch['expiration_date'] !== undefined) {
    expirationAt = checkExpiration(patch['expiration_date'] as string | null, now);
  }
  if (patch['rotation'] !== undefined) {
    const rotation = patchedRotation(rotationOf(secret.details), patch['rotation'] as Record<string, unknown>);
    details['rotation'] = rotation;
    nextRotation = nextRotationAt(rotation, now);
  }
  if (patch['password_generation_policy'] !== undefined) {
    details['password_generation_policy'] = resolvePasswordPolicy({ ...(secret.details['password_generation_policy'] as object), ...(patch['password_generation_policy'] as object) });
  }
  if (patch['ttl'] !== undefined) details['ttl'] = patch['ttl'];
  const labels = patch['labels'];
  const description = patch['description'];
  return {
    name: (patch['name'] as string | undefined) ?? secret.name,
    description: description === undefined ? secret.description : (description as string | null),
    labels: labels === undefined ? secret.labels : labels === null ? [] : (labels as string[]),
    customMetadata: patchedCustomMetadata(secret.customMetadata, patch['custom_metadata'] as Record<string, unknown> | null | undefined, 'custom_metadata'),
    expirationAt,
    ...(expirationAt !== secret.expirationAt ? { expiryNotice: 0 as const } : {}),
    details,
    nextRotationAt: nextRotation,
    updatedAt: now,
  };
}
