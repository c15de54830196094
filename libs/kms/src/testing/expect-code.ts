import type { ErrorCode } from '@sealbox/contracts';
import { DomainError } from '@sealbox/platform';
import { expect } from 'vitest';

/** The DomainError a call throws, asserting its code. */
export function thrown(call: () => unknown, code: ErrorCode): DomainError {
  let error: unknown;
  try {
    call();
  } catch (caught) {
    error = caught;
  }
  expect(error, `expected a DomainError ${code}`).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
  return error as DomainError;
}

/** The DomainError a promise rejects with, asserting its code. */
export async function rejected(promise: Promise<unknown>, code: ErrorCode): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error, `expected a DomainError ${code}`).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
  return error as DomainError;
}
