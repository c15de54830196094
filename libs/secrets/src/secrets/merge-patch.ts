/** RFC 7396 JSON merge patches, as updateSecretMetadata and the version metadata patch apply them. */
import { SecretsWire } from '@sealbox/contracts';
import { parseOrFail } from './validation.js';

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
