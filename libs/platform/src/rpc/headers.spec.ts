import { RpcHeaders } from '@sealbox/contracts';
import { describe, expect, it } from 'vitest';
import { callerFrom } from './headers.js';

const CALLER = { iamId: 'IBMid-1', accountId: 'acc-1', subType: 'user' } as const;

describe('callerFrom', () => {
  it('reads the caller the gateway forwarded', () => {
    expect(callerFrom({ [RpcHeaders.caller]: JSON.stringify(CALLER) })).toEqual(CALLER);
  });

  it.each([
    ['no headers', undefined],
    ['no caller header', {}],
    ['an empty caller header', { [RpcHeaders.caller]: '' }],
    ['a caller header that is not JSON', { [RpcHeaders.caller]: '{iamId:' }],
    ['a caller of the wrong shape', { [RpcHeaders.caller]: JSON.stringify({ ...CALLER, subType: 'root' }) }],
    ['a caller missing its account', { [RpcHeaders.caller]: JSON.stringify({ iamId: 'x', subType: 'user' }) }],
  ])('knows no caller from %s', (_, headers) => {
    expect(callerFrom(headers)).toBeUndefined();
  });
});
