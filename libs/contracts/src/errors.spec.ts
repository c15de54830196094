import { describe, expect, it } from 'vitest';
import { ErrorCodes, isErrorCode, isWireError } from './errors.js';
import { RpcHeaders } from './headers.js';

describe('error codes', () => {
  it('are unique upper-case identifiers', () => {
    expect(new Set(ErrorCodes).size).toBe(ErrorCodes.length);
    for (const code of ErrorCodes) expect(code).toMatch(/^[A-Z][A-Z_]*[A-Z]$/);
  });

  it('isErrorCode accepts declared codes only', () => {
    expect(isErrorCode('NOT_FOUND')).toBe(true);
    expect(isErrorCode('not_found')).toBe(false);
    expect(isErrorCode('TEAPOT')).toBe(false);
    expect(isErrorCode(404)).toBe(false);
    expect(isErrorCode(undefined)).toBe(false);
  });

  it('isWireError requires a declared code and a string message', () => {
    expect(isWireError({ code: 'CONFLICT', message: 'taken' })).toBe(true);
    expect(isWireError({ code: 'VALIDATION_FAILED', message: 'bad', fields: [{ field: 'a', message: 'b' }] })).toBe(true);
    expect(isWireError({ code: 'CONFLICT' })).toBe(false);
    expect(isWireError({ code: 'TEAPOT', message: 'x' })).toBe(false);
    expect(isWireError({ status: 'error', message: 'Internal server error' })).toBe(false);
    expect(isWireError('CONFLICT')).toBe(false);
    expect(isWireError(null)).toBe(false);
  });
});

describe('RPC header names', () => {
  it('are unique lower-case names', () => {
    const names = Object.values(RpcHeaders);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[a-z][a-z-]*$/);
    expect(RpcHeaders.traceparent).toBe('traceparent');
  });
});
