/**
 * Where a secret version's envelope lives and what it is bound to.
 *
 * Every version is sealed with AAD = (instance CRN, secret id, version id): an envelope copied to
 * another version, secret or instance does not open. Its object key in the instance's bucket is
 * `secrets/<secret id>/versions/<version id>`, so one secret's objects share a prefix (deleting a
 * secret lists and removes them) and the key names exactly the context it is sealed under.
 */
import { CryptoWire, StorageWire } from '@sealbox/contracts';

export type EnvelopeContext = CryptoWire.EnvelopeContext;

/** The prefix of every secret's objects in an instance bucket. */
export const SECRETS_KEY_PREFIX = 'secrets/';

/** An id used as one key segment: non-empty, no `/`, not `.` or `..`, and a valid key on its own. */
function requireSegment(what: string, value: string): string {
  const problem = value.includes('/') ? 'must not contain "/"' : StorageWire.objectKeyProblem(value);
  if (problem !== undefined) throw new Error(`${what} ${JSON.stringify(value)} cannot name a storage key: ${problem}`);
  return value;
}

/** The envelope context (AAD) of one version of one secret. */
export function versionContext(instanceCrn: string, secretId: string, versionId: string): EnvelopeContext {
  return { instanceCrn, secretId, versionId };
}

/** The object key of a version's envelope: `secrets/<secret id>/versions/<version id>`. */
export function versionObjectKey(secretId: string, versionId: string): string {
  const key = `${secretPrefix(secretId)}versions/${requireSegment('version id', versionId)}`;
  const problem = StorageWire.objectKeyProblem(key);
  if (problem !== undefined) throw new Error(`storage key of version ${versionId}: ${problem}`);
  return key;
}

/** The prefix of every object of one secret (to list or remove them all): `secrets/<secret id>/`. */
export function secretPrefix(secretId: string): string {
  return `${SECRETS_KEY_PREFIX}${requireSegment('secret id', secretId)}/`;
}

/** The secret id and version id an object key names, or undefined when it is not a version's key (orphan sweeps read keys back). */
export function parseVersionObjectKey(key: string): { readonly secretId: string; readonly versionId: string } | undefined {
  const match = /^secrets\/([^/]+)\/versions\/([^/]+)$/.exec(key);
  if (!match) return undefined;
  const [, secretId = '', versionId = ''] = match;
  return { secretId, versionId };
}

/**
 * A secret's CRN from its instance's: the instance CRN
 * `crn:v1:<cloud>:<type>:secrets-manager:<location>:a/<account>:<instance guid>::` with resource type
 * `secret` and the secret id as resource. Throws on a CRN that does not name a service instance.
 */
export function secretCrn(instanceCrn: string, secretId: string): string {
  const parts = instanceCrn.split(':');
  const [prefix, version, , , serviceName, , , serviceInstance, resourceType, resource] = parts;
  if (parts.length !== 10 || prefix !== 'crn' || version !== 'v1' || !serviceName || !serviceInstance || resourceType || resource) {
    throw new Error(`${JSON.stringify(instanceCrn)} is not the CRN of a service instance`);
  }
  if (secretId === '' || secretId.includes(':')) throw new Error(`secret id ${JSON.stringify(secretId)} cannot be a CRN segment`);
  return [...parts.slice(0, 8), 'secret', secretId].join(':');
}
