/** Shared by the lock medium suites. */
import type { ErrorCode } from '@sealbox/contracts';
import { DomainError } from '@sealbox/platform';
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { InstanceRegistry } from '../../registry/instance-registry.js';

/** The DomainError a promise rejects with, asserting its code. */
export async function failure(promise: Promise<unknown>, code: ErrorCode): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
  return error as DomainError;
}

/** Register an active instance of the account (as lifecycle would), under a new GUID unless one is given. */
export async function activateInstance(registry: InstanceRegistry, accountId: string, instanceGuid: string = randomUUID()): Promise<string> {
  await registry.activate({
    accountId,
    instanceGuid,
    crn: `crn:v1:bluemix:public:secrets-manager:us-south:a/${accountId}:${instanceGuid}::`,
    region: 'us-south',
    kmsKey: { instanceId: randomUUID(), keyId: randomUUID() },
  });
  return instanceGuid;
}
