/**
 * How stale a kms replica's view of a key, its instance or a service-to-service authorization may be
 * when it wraps or unwraps: each is read again once it is this old, whatever events arrive, so a key
 * disabled, deleted or zeroized (or an authorization revoked) through another replica is refused
 * within this time on every replica. The change's events, and the replica that made it, drop them at
 * once.
 */
export const KMS_STATE_MAX_AGE_MS = 500;
