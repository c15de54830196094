/**
 * Secrets and versions as IBM returns them: the fields every type shares, then the type's own from
 * its handler (types/). Pure: no database, no I/O.
 */
import { SecretsWire } from '@sealbox/contracts';
import { secretCrn } from '../domain/context.js';
import { aliasOf } from './aliases.js';
import type { SecretEntity, SecretVersionEntity } from './entities.js';
import type { VersionPayload } from './payload.js';
import { secretTypeHandler, type SecretTypeHandler } from './types/index.js';

const iso = (ms: number) => new Date(ms).toISOString();

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
  const dates = {
    expiration: row.expirationAt !== null ? { expiration_date: iso(row.expirationAt) } : {},
    nextRotation: row.nextRotationAt !== null ? { next_rotation_date: iso(row.nextRotationAt) } : {},
  };
  const handler = secretTypeHandler(row.secretType);
  return { secret_type: handler.type, ...common, ...handler.metadataView(row, dates) } as SecretsWire.SecretMetadata;
}

/** The payload fields a response carries for a version's payload. */
function payloadFields(handler: SecretTypeHandler, payload: VersionPayload | undefined, version: SecretVersionEntity | undefined): Record<string, unknown> {
  if (handler.payloadView) return handler.payloadView(payload ?? {}, version);
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
  return { ...toWireMetadata(row, instanceCrn, locksTotal), ...payloadFields(secretTypeHandler(row.secretType), payload, current) } as SecretsWire.Secret;
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
  const handler = secretTypeHandler(secret.secretType);
  return { secret_type: handler.type, ...common, ...handler.versionView(version) } as SecretsWire.SecretVersionMetadata;
}

/** A version with its payload; the payload fields are absent when its data was deleted. */
export function toWireVersion(secret: SecretEntity, version: SecretVersionEntity, payload: VersionPayload | undefined): SecretsWire.SecretVersion {
  const metadata = toWireVersionMetadata(secret, version);
  const fields = payload === undefined ? {} : payloadFields(secretTypeHandler(secret.secretType), payload, undefined);
  return { ...metadata, ...fields } as SecretsWire.SecretVersion;
}
