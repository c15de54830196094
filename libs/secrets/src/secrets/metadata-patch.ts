/** updateSecretMetadata: a secret's columns after a merge patch. */
import { patchedCustomMetadata } from './merge-patch.js';
import { nextRotationAt, patchedRotation, rotationOf } from './rotation.js';
import type { SecretEntity } from './entities.js';
import { secretTypeHandler } from './types/index.js';
import { checkExpiration } from './validation.js';

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
 * merge (custom_metadata, rotation, and the type's own details through its handler). A changed
 * rotation policy counts its next date from `now`; a changed expiration date owes its notices again.
 */
export function metadataChanges(secret: SecretEntity, patch: Record<string, unknown>, now: number): MetadataChanges {
  let details: Record<string, unknown> = { ...secret.details };
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
  const handler = secretTypeHandler(secret.secretType);
  if (handler.patchDetails) details = handler.patchDetails(details, patch);
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
