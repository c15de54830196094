import type { WireError } from '@sealbox/contracts';
import { describe, expect, it } from 'vitest';
import {
  conflict,
  DomainError,
  forbidden,
  fromWireError,
  isDomainError,
  notFound,
  notImplemented,
  RateLimitedError,
  serviceUnavailable,
  toWireError,
  validationFailed,
} from './domain-error.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';

describe('DomainError', () => {
  it('is an Error with a code, a message and optional fields', () => {
    const error = new DomainError('NOT_FOUND', 'Secret s1 was not found');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('DomainError');
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe('Secret s1 was not found');
    expect(isDomainError(error)).toBe(true);
    expect(isDomainError(new Error('x'))).toBe(false);
    expect(isDomainError({ code: 'NOT_FOUND', message: 'x' })).toBe(false);
  });

  it('serializes only what is set', () => {
    expect(new DomainError('CONFLICT', 'taken').toWire()).toEqual({ code: 'CONFLICT', message: 'taken' });
    expect(new DomainError('CONFLICT', 'taken', []).toWire()).toEqual({ code: 'CONFLICT', message: 'taken' });
    const fields = [{ field: 'name', message: 'Required' }];
    expect(new DomainError('VALIDATION_FAILED', 'bad', fields, TRACE_ID).toWire()).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'bad',
      fields,
      traceId: TRACE_ID,
    });
  });

  it('round-trips through its wire form', () => {
    const wire: WireError = { code: 'VALIDATION_FAILED', message: 'bad', fields: [{ field: 'a.b', message: 'x' }], traceId: TRACE_ID };
    const error = DomainError.fromWire(wire);
    expect(error).toBeInstanceOf(DomainError);
    expect(error.toWire()).toEqual(wire);
  });
});

describe('error factories', () => {
  it.each([
    [notFound('Secret s1'), 'NOT_FOUND', 'Secret s1 was not found'],
    [conflict('The name is taken'), 'CONFLICT', 'The name is taken'],
    [forbidden(), 'FORBIDDEN', 'You are not allowed to perform this action'],
    [forbidden('Only administrators may do this'), 'FORBIDDEN', 'Only administrators may do this'],
    [notImplemented('kms.key.wrap'), 'NOT_IMPLEMENTED', 'kms.key.wrap is not implemented yet'],
    [serviceUnavailable('The kms service cannot be reached'), 'SERVICE_UNAVAILABLE', 'The kms service cannot be reached'],
  ])('%o has code %s', (error, code, message) => {
    expect(error).toBeInstanceOf(DomainError);
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
  });

  it('validationFailed lists the fields in its message and keeps them', () => {
    const fields = [
      { field: 'name', message: 'Required' },
      { field: 'labels.0', message: 'Too long' },
    ];
    const error = validationFailed(fields);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.fields).toEqual(fields);
    expect(error.message).toBe('The request is invalid: name: Required; labels.0: Too long');
    expect(validationFailed(fields, 'The policy').message).toMatch(/^The policy is invalid: /);
  });
});

describe('RateLimitedError', () => {
  it('is RATE_LIMITED and keeps the seconds to wait for the HTTP edge', () => {
    const error = new RateLimitedError(30);
    expect(error).toBeInstanceOf(DomainError);
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.retryAfterSeconds).toBe(30);
    expect(error.message).toBe('Too many requests; retry after 30 s');
    expect(toWireError(error)).toEqual({ code: 'RATE_LIMITED', message: 'Too many requests; retry after 30 s' });
  });
});

describe('toWireError', () => {
  it('keeps a domain error as it is', () => {
    expect(toWireError(conflict('The name is taken'), TRACE_ID)).toEqual({ code: 'CONFLICT', message: 'The name is taken' });
  });

  it('turns any other error into INTERNAL carrying only the trace id', () => {
    const wire = toWireError(new Error('ECONNREFUSED postgres://sealbox:pw@db'), TRACE_ID);
    expect(wire).toEqual({ code: 'INTERNAL', message: 'An internal error occurred', traceId: TRACE_ID });
  });

  it.each([['a string', 'db password=pw'], ['undefined', undefined], ['an object', { code: 'CONFLICT', message: 'x' }]])(
    'turns %s thrown into INTERNAL',
    (_, thrown) => {
      expect(toWireError(thrown)).toEqual({ code: 'INTERNAL', message: 'An internal error occurred' });
    },
  );
});

describe('fromWireError', () => {
  it('rebuilds the domain error that crossed the wire', () => {
    const error = fromWireError({ code: 'VALIDATION_FAILED', message: 'bad', fields: [{ field: 'x', message: 'y' }] });
    expect(error).toBeInstanceOf(DomainError);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.fields).toEqual([{ field: 'x', message: 'y' }]);
    expect(fromWireError({ code: 'INTERNAL', message: 'An internal error occurred', traceId: TRACE_ID }).traceId).toBe(TRACE_ID);
  });

  it.each([
    ["Nest's answer to an unknown exception", { status: 'error', message: 'Internal server error' }],
    ['an unknown code', { code: 'TEAPOT', message: 'short and stout' }],
    ['a bare string', 'There is no matching message handler defined in the remote service.'],
    ['null', null],
  ])('turns %s into INTERNAL without repeating it', (_, value) => {
    const error = fromWireError(value);
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toBe('An internal error occurred in a remote service');
  });
});
