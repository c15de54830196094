/** Version aliases: `current` and `previous`. */
import type { SecretsWire } from '@sealbox/contracts';
import type { SecretEntity, SecretVersionEntity } from './entities.js';

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
