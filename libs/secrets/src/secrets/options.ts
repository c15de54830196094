import { planQuotas, type SecretsQuota } from '../quotas/quotas.js';

/** Settings of the secrets and versions core (SEALBOX_SECRETS_* in config.ts). */
export interface SecretsDomainOptions {
  /** How often the rotation and expiry schedulers look for due secrets (ms); 0: never by timer (tests call them). */
  readonly schedulerIntervalMs: number;
  /** How many due secrets one scheduler query reads; a run goes on batch after batch. */
  readonly schedulerBatchSize: number;
  /** How long before its expiration_date a secret gets its `secrets.secret.expiring` event (ms). */
  readonly expiryWarningMs: number;
  /** How often the orphan sweep visits every active instance's bucket (ms); 0: never by timer. */
  readonly orphanSweepIntervalMs: number;
  /** Objects younger than this (by their version id's time) are never swept: their create may be in flight (ms). */
  readonly orphanGraceMs: number;
  /**
   * Read bookkeeping (`retrieved_at`, `downloaded`) is kept in memory and written at most once per
   * this many ms per secret (ms); 0: never by timer (tests call `runDue`; shutdown still writes it).
   */
  readonly readFlushIntervalMs: number;
  /** At most this many secrets with unwritten reads; one more is written early (the read waits for that). */
  readonly pendingReadsMax: number;
  /** Bytes of stored envelopes (ciphertext as the object store returned it) kept in memory; 0: none. */
  readonly envelopeCacheBytes: number;
  /** The quotas of every plan (quotas/quotas.ts), by plan id. */
  readonly quotas: Readonly<Record<string, SecretsQuota>>;
}

export const DEFAULT_SECRETS_DOMAIN_OPTIONS: SecretsDomainOptions = {
  schedulerIntervalMs: 60_000,
  schedulerBatchSize: 100,
  expiryWarningMs: 30 * 86_400_000,
  orphanSweepIntervalMs: 3_600_000,
  orphanGraceMs: 600_000,
  readFlushIntervalMs: 1000,
  pendingReadsMax: 10_000,
  envelopeCacheBytes: 32 * 1024 * 1024,
  quotas: planQuotas(),
};

export const SECRETS_OPTIONS = Symbol('sealbox:secrets:options');
