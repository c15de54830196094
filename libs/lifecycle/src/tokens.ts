export const LIFECYCLE_OPTIONS = Symbol('sealbox:lifecycle:options');

/** The lifecycle domain's settings (from LifecycleSettings, or a test). */
export interface LifecycleDomainOptions {
  readonly regions: readonly string[];
  readonly reclamationPlans: readonly string[];
  readonly retentionMs: number;
  readonly planChangeGraceMs: number;
  /** 0: no timer (tests call the scheduler themselves). */
  readonly schedulerIntervalMs: number;
  readonly sweepBatchSize: number;
  readonly sagaLeaseMs: number;
  readonly providerAccountId: string;
}

export const defaultLifecycleOptions: LifecycleDomainOptions = {
  regions: ['us-south', 'eu-de'],
  reclamationPlans: ['secrets-manager-standard'],
  retentionMs: 7 * 86_400_000,
  planChangeGraceMs: 3_600_000,
  schedulerIntervalMs: 60_000,
  sweepBatchSize: 100,
  sagaLeaseMs: 60_000,
  providerAccountId: 'sealbox-provider',
};
