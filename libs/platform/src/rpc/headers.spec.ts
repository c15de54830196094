import { RpcHeaders } from '@sealbox/contracts';
import { describe, expect, it } from 'vitest';
import { callerFrom, fromNatsHeaders, MapHeaders, toNatsHeaders } from './headers.js';

const CALLER = { iamId: 'IBMid-1', accountId: 'acc-1', subType: 'user' } as const;

describe('NATS header conversion', () => {
  it('round-trips a plain map', () => {
    const map = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'sealbox-request-id': 'r1' };
    const headers = toNatsHeaders(map);
    expect(headers.get('sealbox-request-id')).toBe('r1');
    expect(fromNatsHeaders(headers)).toEqual(map);
  });

  it('reads absent headers as an empty map', () => {
    expect(fromNatsHeaders(undefined)).toEqual({});
    expect(fromNatsHeaders(toNatsHeaders({}))).toEqual({});
  });
});

describe('MapHeaders', () => {
  it('reads like NATS headers: a missing name is the empty string', () => {
    const headers = new MapHeaders({ a: '1' });
    expect(headers.get('a')).toBe('1');
    expect(headers.get('b')).toBe('');
    expect(headers.keys()).toEqual(['a']);
  });
});

describe('callerFrom', () => {
  it('reads the caller the gateway forwarded', () => {
    expect(callerFrom(new MapHeaders({ [RpcHeaders.caller]: JSON.stringify(CALLER) }))).toEqual(CALLER);
    expect(callerFrom(toNatsHeaders({ [RpcHeaders.caller]: JSON.stringify(CALLER) }))).toEqual(CALLER);
  });

  it.each([
    ['no headers', undefined],
    ['no caller header', new MapHeaders({})],
    ['an empty caller header', new MapHeaders({ [RpcHeaders.caller]: '' })],
    ['a caller header that is not JSON', new MapHeaders({ [RpcHeaders.caller]: '{iamId:' })],
    ['a caller of the wrong shape', new MapHeaders({ [RpcHeaders.caller]: JSON.stringify({ ...CALLER, subType: 'root' }) })],
    ['a caller missing its account', new MapHeaders({ [RpcHeaders.caller]: JSON.stringify({ iamId: 'x', subType: 'user' }) })],
  ])('knows no caller from %s', (_, reader) => {
    expect(callerFrom(reader)).toBeUndefined();
  });
});
