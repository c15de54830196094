import { describe, expect, expectTypeOf, it } from 'vitest';
import type { HealthResponse, ResponseOf } from '@sealbox/contracts';
import type { RpcClient } from './client.js';

/**
 * Compile-time contract of the typed client (checked by `npm run typecheck`, part of `npm test`):
 * the subject and payload types come from the registry, so mistakes do not compile.
 */
type Send = RpcClient['send'];

describe('RpcClient typing', () => {
  it('takes its request and response types from the registry', () => {
    expectTypeOf<ResponseOf<'iam.health'>>().toEqualTypeOf<HealthResponse>();
    expectTypeOf<Send>().parameter(0).toEqualTypeOf<Parameters<Send>[0]>();
    const typecheckOnly = (client: RpcClient) => {
      // @ts-expect-error an unknown subject does not compile
      void client.send('iam.nope', {});
      // @ts-expect-error a health request takes no fields
      void client.send('iam.health', { unexpected: true });
      // a correct call compiles and is typed
      const answer: Promise<HealthResponse> = client.send('kms.health', {});
      return answer;
    };
    expect(typeof typecheckOnly).toBe('function');
  });
});
