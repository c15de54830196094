import { DatabaseSettings, postgresConfigOf, ServiceSettings } from '@sealbox/platform';
import { z } from 'zod';
import { DEFAULT_SECRETS_DOMAIN_OPTIONS, type SecretsDomainOptions } from './secrets/options.js';
import type { SecretsModuleOptions } from './secrets.module.js';
import { planQuotas, QuotaOverrides } from './quotas/quotas.js';

const DAY_MS = 86_400_000;

const intervalMs = (fallback: number, what: string) =>
  z.coerce
    .number()
    .int()
    .min(0)
    .max(DAY_MS)
    .refine((ms) => ms === 0 || ms >= 1000, 'must be 0 (off) or at least 1000')
    .default(fallback)
    .describe(what);

/** JSON text (an environment variable) or an object (the config file), parsed before validation. */
const jsonText = (value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return Symbol('not JSON');
  }
};

/** Settings of the secrets domain shared by apps/secrets and apps/standalone. */
export const SecretsSettings = {
  SEALBOX_SECRETS_SCHEDULER_INTERVAL_MS: intervalMs(
    60_000,
    'How often the rotation and expiry schedulers look for due secrets, in ms (0 = never; at least 1000 otherwise)',
  ),
  SEALBOX_SECRETS_SCHEDULER_BATCH_SIZE: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(100)
    .describe('How many due secrets one scheduler query reads (a run continues batch after batch)'),
  SEALBOX_SECRETS_EXPIRY_WARNING_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .max(365)
    .default(30)
    .describe('Days before its expiration_date a secret gets its secrets.secret.expiring event'),
  SEALBOX_SECRETS_ORPHAN_SWEEP_INTERVAL_MS: intervalMs(
    3_600_000,
    'How often the orphan sweep removes stored versions that have no metadata (or whose data was deleted), in ms (0 = never)',
  ),
  SEALBOX_SECRETS_ORPHAN_GRACE_MS: z.coerce
    .number()
    .int()
    .min(60_000)
    .max(DAY_MS)
    .default(600_000)
    .describe('Objects younger than this are never swept, so a create still committing keeps its object (ms, at least 60000)'),
  SEALBOX_SECRETS_ENVELOPE_CACHE_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .max(4 * 1024 * 1024 * 1024)
    .default(DEFAULT_SECRETS_DOMAIN_OPTIONS.envelopeCacheBytes)
    .describe('Memory for stored envelopes (ciphertext only, as the object store returned them) a replica keeps, in bytes; 0 = none'),
  SEALBOX_SECRETS_QUOTAS: z
    .preprocess(jsonText, QuotaOverrides)
    .default({})
    .describe(
      'Quotas per plan over the built-in ones, as JSON: {"<plan id>": {"secrets_per_instance", "groups_per_instance", "versions_kept", "kv_keys", "payload_bytes"}} (see docs/secrets-manager.md)',
    ),
};

type SecretsSettings = z.output<z.ZodObject<typeof SecretsSettings>>;

/** The domain options from the secrets settings. */
export function secretsDomainOptions(config: SecretsSettings): SecretsDomainOptions {
  return {
    schedulerIntervalMs: config.SEALBOX_SECRETS_SCHEDULER_INTERVAL_MS,
    schedulerBatchSize: config.SEALBOX_SECRETS_SCHEDULER_BATCH_SIZE,
    expiryWarningMs: config.SEALBOX_SECRETS_EXPIRY_WARNING_DAYS * DAY_MS,
    orphanSweepIntervalMs: config.SEALBOX_SECRETS_ORPHAN_SWEEP_INTERVAL_MS,
    orphanGraceMs: config.SEALBOX_SECRETS_ORPHAN_GRACE_MS,
    readFlushIntervalMs: DEFAULT_SECRETS_DOMAIN_OPTIONS.readFlushIntervalMs,
    pendingReadsMax: DEFAULT_SECRETS_DOMAIN_OPTIONS.pendingReadsMax,
    envelopeCacheBytes: config.SEALBOX_SECRETS_ENVELOPE_CACHE_BYTES,
    quotas: planQuotas(config.SEALBOX_SECRETS_QUOTAS),
  };
}

/** Configuration of apps/secrets. */
export const SecretsAppConfig = z.object({
  ...ServiceSettings,
  ...DatabaseSettings,
  ...SecretsSettings,
});
export type SecretsAppConfig = z.output<typeof SecretsAppConfig>;

export function secretsOptionsFrom(config: SecretsAppConfig): SecretsModuleOptions {
  return { database: postgresConfigOf(config), secrets: secretsDomainOptions(config) };
}
