/**
 * The two sagas of a Secrets Manager instance and the order of their steps. Each step is recorded on
 * the instance row BEFORE it runs, and every step is idempotent, so a saga interrupted anywhere is
 * resumed by running its recorded step again and going on.
 */
export const PROVISION_STEPS = ['create_bucket', 'create_registration', 'activate_secrets'] as const;
export type ProvisionStep = (typeof PROVISION_STEPS)[number];

/** Permanent delete: secrets metadata, the bucket, the key registration (needs the authorization), then the authorizations. */
export const DELETE_STEPS = ['purge_secrets', 'remove_bucket', 'delete_registration', 'delete_policies'] as const;
export type DeleteStep = (typeof DELETE_STEPS)[number];

export type SagaKind = 'provision' | 'delete';
export type SagaStep = ProvisionStep | DeleteStep;

/**
 * running: a replica holds the lease and runs it; retrying: a step failed and the scheduler runs it
 * again; blocked: a step cannot succeed until something outside changes (the authorization is gone),
 * retried too.
 */
export type SagaStatus = 'running' | 'retrying' | 'blocked';

const stepsOf = (kind: SagaKind): readonly SagaStep[] => (kind === 'provision' ? PROVISION_STEPS : DELETE_STEPS);

export function firstStep(kind: SagaKind): SagaStep {
  return stepsOf(kind)[0] as SagaStep;
}

/** The step after `step`, or undefined when `step` is the last one. */
export function nextStep(kind: SagaKind, step: SagaStep): SagaStep | undefined {
  const steps = stepsOf(kind);
  const index = steps.indexOf(step);
  if (index < 0) throw new Error(`${step} is not a step of the ${kind} saga`);
  return steps[index + 1];
}

/** 1-based position and count, for `last_operation.description`. */
export function stepPosition(kind: SagaKind, step: SagaStep): { index: number; of: number } {
  const steps = stepsOf(kind);
  return { index: steps.indexOf(step) + 1, of: steps.length };
}

/**
 * What a failed provisioning undoes: the failed step (it may have half-happened) and every step
 * before it, the latest first.
 */
export function rollbackOf(failed: ProvisionStep): ProvisionStep[] {
  const index = PROVISION_STEPS.indexOf(failed);
  if (index < 0) throw new Error(`${failed} is not a provisioning step`);
  return PROVISION_STEPS.slice(0, index + 1).reverse();
}

export const STEP_LABELS: Record<SagaStep, string> = {
  create_bucket: 'create the bucket',
  create_registration: 'register the root key',
  activate_secrets: 'activate the instance',
  purge_secrets: 'delete the secrets metadata',
  remove_bucket: 'remove the bucket',
  delete_registration: 'delete the key registration',
  delete_policies: 'delete the authorizations of the instance',
};

export function isSagaStep(kind: SagaKind, value: string | null): value is SagaStep {
  return value !== null && (stepsOf(kind) as readonly string[]).includes(value);
}
