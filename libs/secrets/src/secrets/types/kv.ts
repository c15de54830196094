/** `kv`: a JSON object as given; no expiration, no rotation. */
import type { SecretTypeHandler } from './handler.js';

export const kv: SecretTypeHandler<'kv'> = {
  type: 'kv',
  async first({ prototype }) {
    return { payload: { data: prototype.data }, secretDetails: {}, secretExpirationAt: null, versionDetails: {}, versionExpirationAt: null, nextRotationAt: null };
  },
  async next({ secret, prototype }) {
    return { payload: { data: prototype['data'] as Record<string, unknown> }, secretDetails: secret.details, versionDetails: {}, versionExpirationAt: null };
  },
  decode: (value) => ({ data: (value['data'] ?? {}) as Record<string, unknown> }),
  metadataView: () => ({}),
  versionView: () => ({}),
};
