import type { LifecycleWire } from '@sealbox/contracts';
import { validationFailed } from '@sealbox/platform';

type ServiceName = LifecycleWire.LifecycleServiceName;

/** A plan of the catalog, without its retirement (that is state, kept in the database). */
export interface CatalogPlan {
  readonly id: string;
  readonly name: string;
  readonly service: ServiceName;
  /** Deleting an instance schedules a reclamation instead of deleting it at once. */
  readonly reclamation: boolean;
}

/** The plan ids of the catalog (documented in docs/lifecycle.md). */
export const PLAN_IDS = ['secrets-manager-trial', 'secrets-manager-standard', 'kms-standard', 'hs-crypto-standard'] as const;
export type PlanId = (typeof PLAN_IDS)[number];

const SERVICE_OF: Record<PlanId, ServiceName> = {
  'secrets-manager-trial': 'secrets-manager',
  'secrets-manager-standard': 'secrets-manager',
  'kms-standard': 'kms',
  'hs-crypto-standard': 'hs-crypto',
};

/** Only Secrets Manager instances can be disabled and restored, so only their plans may have reclamation. */
export const RECLAIMABLE_SERVICES: readonly ServiceName[] = ['secrets-manager'];

/** The catalog: every plan, with reclamation on the plans listed in `reclamationPlans`. */
export function planCatalog(reclamationPlans: readonly string[]): CatalogPlan[] {
  return PLAN_IDS.map((id) => ({
    id,
    name: id.slice(SERVICE_OF[id].length + 1),
    service: SERVICE_OF[id],
    reclamation: reclamationPlans.includes(id),
  }));
}

/** Why a list of reclamation plan ids is wrong, or undefined. */
export function reclamationPlansProblem(ids: readonly string[]): string | undefined {
  for (const id of ids) {
    if (!(PLAN_IDS as readonly string[]).includes(id)) return `unknown plan ${id} (plans: ${PLAN_IDS.join(', ')})`;
    if (!RECLAIMABLE_SERVICES.includes(SERVICE_OF[id as PlanId])) return `plan ${id} cannot have reclamation: only secrets-manager instances can be restored`;
  }
  return undefined;
}

/** The plan `id` (not retired), else VALIDATION_FAILED naming `field`. */
export function requirePlan(catalog: readonly CatalogPlan[], retired: ReadonlySet<string>, id: string, field = 'resource_plan_id'): CatalogPlan {
  const plan = catalog.find((candidate) => candidate.id === id);
  if (!plan) throw validationFailed([{ field, message: `unknown plan ${id} (plans: ${catalog.map((item) => item.id).join(', ')})` }]);
  if (retired.has(id)) throw validationFailed([{ field, message: `plan ${id} is retired: choose another plan of ${plan.service}` }]);
  return plan;
}

/** A plan change keeps the service: VALIDATION_FAILED otherwise. */
export function requireSameService(from: CatalogPlan, to: CatalogPlan): void {
  if (from.service !== to.service) {
    throw validationFailed([{ field: 'resource_plan_id', message: `plan ${to.id} is a ${to.service} plan; this instance is of ${from.service}` }]);
  }
}

/** A region of the configuration, else VALIDATION_FAILED naming `target`. */
export function requireRegion(regions: readonly string[], region: string): string {
  if (!regions.includes(region)) throw validationFailed([{ field: 'target', message: `unknown region ${region} (regions: ${regions.join(', ')})` }]);
  return region;
}

/** The catalog as `lifecycle.plan.list` shows it. */
export function wirePlans(catalog: readonly CatalogPlan[], retired: ReadonlySet<string>, retentionMs: number): LifecycleWire.Plan[] {
  return catalog.map((plan) => ({
    id: plan.id,
    name: plan.name,
    service: plan.service,
    reclamation: plan.reclamation,
    retentionSeconds: plan.reclamation ? Math.floor(retentionMs / 1000) : 0,
    retired: retired.has(plan.id),
  }));
}
