import { DatabaseSettings, postgresConfigOf, ServiceSettings } from '@sealbox/platform';
import { z } from 'zod';
import { reclamationPlansProblem } from './domain/catalog.js';
import type { LifecycleModuleOptions } from './lifecycle.module.js';
import type { LifecycleDomainOptions } from './tokens.js';

const commaList = z
  .string()
  .transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean));

/** Settings of the lifecycle domain shared by apps/lifecycle and apps/standalone. */
export const LifecycleSettings = {
  SEALBOX_LIFECYCLE_REGIONS: commaList
    .refine((regions) => regions.length > 0 && regions.every((region) => /^[a-z][a-z0-9-]{1,63}$/.test(region)), 'must be a comma-separated list of region ids (lowercase letters, digits, -)')
    .default(['us-south', 'eu-de'])
    .describe('Regions instances can be created in (`target`), comma-separated'),
  SEALBOX_LIFECYCLE_RECLAMATION_PLANS: commaList
    .superRefine((plans, context) => {
      const problem = reclamationPlansProblem(plans);
      if (problem) context.addIssue({ code: 'custom', message: problem });
    })
    .default(['secrets-manager-standard'])
    .describe('Plans whose deleted instances go to reclamation (restorable until the retention ends) instead of being deleted at once; secrets-manager plans only'),
  SEALBOX_LIFECYCLE_RETENTION_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(365 * 86_400)
    .default(7 * 86_400)
    .describe('How long a reclaimed instance can be restored before it is permanently deleted, in seconds (7 days)'),
  SEALBOX_LIFECYCLE_PLAN_CHANGE_GRACE_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(30 * 86_400)
    .default(3600)
    .describe('An instance of a retired plan, once restored, must change plan within this many seconds or is deleted again'),
  SEALBOX_LIFECYCLE_SCHEDULER_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(86_400_000)
    .default(60_000)
    .describe('How often the scheduler sweeps due reclamations, overdue plan changes and unfinished sagas, in ms (0 = never)'),
  SEALBOX_LIFECYCLE_SWEEP_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(100).describe('Due reclamations one scheduler query reads'),
  SEALBOX_LIFECYCLE_SAGA_LEASE_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(3_600_000)
    .default(60_000)
    .describe('A saga left unfinished by a stopped replica is taken over by another after this many ms'),
  SEALBOX_LIFECYCLE_PROVIDER_ACCOUNT_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default('sealbox-provider')
    .describe('Account that owns the provider key-protect instances (one per region) of provider-managed encryption'),
};

type LifecycleSettings = z.output<z.ZodObject<typeof LifecycleSettings>>;

/** Configuration of apps/lifecycle. */
export const LifecycleAppConfig = z.object({
  ...ServiceSettings,
  ...DatabaseSettings,
  ...LifecycleSettings,
});
export type LifecycleAppConfig = z.output<typeof LifecycleAppConfig>;

export function lifecycleDomainOptions(config: LifecycleSettings): LifecycleDomainOptions {
  return {
    regions: config.SEALBOX_LIFECYCLE_REGIONS,
    reclamationPlans: config.SEALBOX_LIFECYCLE_RECLAMATION_PLANS,
    retentionMs: config.SEALBOX_LIFECYCLE_RETENTION_SECONDS * 1000,
    planChangeGraceMs: config.SEALBOX_LIFECYCLE_PLAN_CHANGE_GRACE_SECONDS * 1000,
    schedulerIntervalMs: config.SEALBOX_LIFECYCLE_SCHEDULER_INTERVAL_MS,
    sweepBatchSize: config.SEALBOX_LIFECYCLE_SWEEP_BATCH_SIZE,
    sagaLeaseMs: config.SEALBOX_LIFECYCLE_SAGA_LEASE_MS,
    providerAccountId: config.SEALBOX_LIFECYCLE_PROVIDER_ACCOUNT_ID,
  };
}

export function lifecycleOptionsFrom(config: LifecycleAppConfig): LifecycleModuleOptions {
  return {
    database: postgresConfigOf(config),
    lifecycle: lifecycleDomainOptions(config),
  };
}
