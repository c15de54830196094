/**
 * Secrets Manager v2 wire shapes (the `SecretsWire` namespace): what the gateway serves at
 * `/secrets-manager/{instance_guid}/api/v2/…` and what `@sealbox/sm-client` parses, in IBM's field
 * names and JSON. Organised by concern: common.ts (limits, scalars, fields every type shares),
 * types/ (one module per secret type and THE registry of types), groups, locks, lists, operations
 * (error body, unimplemented operations) and requests (service requests over NATS).
 *
 * Requests (prototypes, patches, lock bodies) are STRICT: a field this API does not take is rejected
 * with its own name, so an unsupported IBM feature (`managed_csr`, `rotation` on an `arbitrary` secret,
 * a typo) fails loudly instead of being dropped. Responses are plain objects (unknown fields are
 * stripped), so a newer server does not break an older client.
 *
 * Query strings arrive as text: numbers are read from digits only, lists from comma-joined values (the
 * IBM SDKs comma-join arrays), so `?limit=abc`, `?limit=1.5` or `?sort=colour` fail naming the parameter.
 */
export * from './common.js';
export * from './types/index.js';
export * from './groups.js';
export * from './locks.js';
export * from './lists.js';
export * from './operations.js';
export * from './requests.js';
