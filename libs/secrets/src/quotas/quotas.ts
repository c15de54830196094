import { SecretsWire } from '@sealbox/contracts';
import { DomainError } from '@sealbox/platform';
import { z } from 'zod';

/**
 * What one Secrets Manager instance may hold, by its plan. Counted per instance (secrets, groups) or
 * per secret version (payload bytes, kv keys). Over a quota, the request is refused with 409
 * QUOTA_EXCEEDED naming the quota and its limit: a quota never slows anything down. `versionsKept`
 * refuses nothing: like IBM's, a secret keeps its newest versions and older ones are removed
 * (locked versions stay until unlocked).
 */
export interface SecretsQuota {
  /** Secrets in the instance, of every type and group. */
  readonly secretsPerInstance: number;
  /** Secret groups besides `default`. */
  readonly groupsPerInstance: number;
  /** Versions a secret keeps; older unlocked ones are removed by a new version. */
  readonly versionsKept: number;
  /** Keys of a kv version's data, nested keys included. */
  readonly kvKeys: number;
  /** Bytes of one version's payload: the UTF-8 bytes of its text fields plus the JSON bytes of the others (kv data). */
  readonly payloadBytes: number;
}

/** The plan of instances registered before plans were recorded, and of an unknown plan. */
export const DEFAULT_QUOTA_PLAN = 'secrets-manager-standard';

/** Hard ceilings: what the API itself accepts; a configured quota cannot go above them. */
const CEILING: SecretsQuota = {
  secretsPerInstance: 1_000_000,
  groupsPerInstance: SecretsWire.MAX_SECRET_GROUPS_PER_INSTANCE,
  versionsKept: SecretsWire.MAX_VERSIONS_KEPT,
  kvKeys: 100_000,
  // Above the largest payload a type accepts (arbitrary and kv: 512 KiB each).
  payloadBytes: 1024 * 1024,
};

/** The built-in quotas per plan (documented in docs/secrets-manager.md). */
export const DEFAULT_PLAN_QUOTAS: Readonly<Record<string, SecretsQuota>> = {
  'secrets-manager-standard': {
    secretsPerInstance: 20_000,
    groupsPerInstance: SecretsWire.MAX_SECRET_GROUPS_PER_INSTANCE,
    versionsKept: SecretsWire.MAX_VERSIONS_KEPT,
    kvKeys: 1_000,
    payloadBytes: 512 * 1024,
  },
  'secrets-manager-trial': {
    secretsPerInstance: 1_000,
    groupsPerInstance: 20,
    versionsKept: 10,
    kvKeys: 100,
    payloadBytes: 64 * 1024,
  },
};

const limit = (ceiling: number) => z.number().int().min(1).max(ceiling);

/** One plan's overrides, in the snake_case of the setting's JSON. */
const PlanQuotaOverride = z.strictObject({
  secrets_per_instance: limit(CEILING.secretsPerInstance).optional(),
  groups_per_instance: limit(CEILING.groupsPerInstance).optional(),
  versions_kept: limit(CEILING.versionsKept).optional(),
  kv_keys: limit(CEILING.kvKeys).optional(),
  payload_bytes: limit(CEILING.payloadBytes).optional(),
});

/** `SEALBOX_SECRETS_QUOTAS`: a JSON object of plan id → overrides of that plan's quotas. */
export const QuotaOverrides = z.record(z.string().min(1).max(128), PlanQuotaOverride);
export type QuotaOverrides = z.infer<typeof QuotaOverrides>;

/** The quotas of every plan: the built-in ones with `overrides` applied (a plan only in the overrides starts from the default plan's). */
export function planQuotas(overrides: QuotaOverrides = {}): Readonly<Record<string, SecretsQuota>> {
  const plans: Record<string, SecretsQuota> = { ...DEFAULT_PLAN_QUOTAS };
  for (const [plan, override] of Object.entries(overrides)) {
    const base = plans[plan] ?? (DEFAULT_PLAN_QUOTAS[DEFAULT_QUOTA_PLAN] as SecretsQuota);
    plans[plan] = {
      secretsPerInstance: override.secrets_per_instance ?? base.secretsPerInstance,
      groupsPerInstance: override.groups_per_instance ?? base.groupsPerInstance,
      versionsKept: override.versions_kept ?? base.versionsKept,
      kvKeys: override.kv_keys ?? base.kvKeys,
      payloadBytes: override.payload_bytes ?? base.payloadBytes,
    };
  }
  return plans;
}

/** The quota of an instance's plan; an instance without a recorded plan has the default plan's. */
export function quotaOf(plans: Readonly<Record<string, SecretsQuota>>, planId: string | null): SecretsQuota {
  return plans[planId ?? DEFAULT_QUOTA_PLAN] ?? (plans[DEFAULT_QUOTA_PLAN] as SecretsQuota);
}

const exceeded = (what: string, limit: number, planId: string | null) =>
  new DomainError('QUOTA_EXCEEDED', `Quota exceeded: ${what} (the limit of plan ${planId ?? DEFAULT_QUOTA_PLAN} is ${limit})`);

/** One more secret in an instance that holds `total`. */
export function assertSecretQuota(quota: SecretsQuota, planId: string | null, total: number): void {
  if (total >= quota.secretsPerInstance) throw exceeded(`an instance holds at most ${quota.secretsPerInstance} secrets`, quota.secretsPerInstance, planId);
}

/** One more group in an instance whose groups, `default` included, number `total`. */
export function assertGroupQuota(quota: SecretsQuota, planId: string | null, total: number): void {
  if (total - 1 >= quota.groupsPerInstance) {
    throw exceeded(`an instance has at most ${quota.groupsPerInstance} secret groups besides "default"`, quota.groupsPerInstance, planId);
  }
}

/** Keys of a JSON value, nested ones included (array items are not keys, their objects' keys are). */
export function countKeys(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + countKeys(item), 0);
  if (typeof value !== 'object' || value === null) return 0;
  let keys = 0;
  for (const item of Object.values(value)) keys += 1 + countKeys(item);
  return keys;
}

/** The size of a payload as its owner sees it: text fields in UTF-8, other fields as JSON. */
export function payloadBytes(payload: Readonly<Record<string, unknown>>): number {
  let bytes = 0;
  for (const value of Object.values(payload)) {
    if (value === undefined || value === null) continue;
    bytes += Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
  }
  return bytes;
}

/** A version's payload within the payload bytes and, for kv data, the kv keys of the plan. */
export function assertPayloadQuota(quota: SecretsQuota, planId: string | null, secretType: string, payload: Readonly<Record<string, unknown>>): void {
  const bytes = payloadBytes(payload);
  if (bytes > quota.payloadBytes) {
    throw exceeded(`a secret version's payload is at most ${quota.payloadBytes} bytes; this one is ${bytes}`, quota.payloadBytes, planId);
  }
  if (secretType === 'kv') {
    const keys = countKeys(payload['data']);
    if (keys > quota.kvKeys) throw exceeded(`kv data has at most ${quota.kvKeys} keys (nested ones counted); this one has ${keys}`, quota.kvKeys, planId);
  }
}
