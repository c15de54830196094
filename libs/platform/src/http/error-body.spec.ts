import { BadRequestException, MethodNotAllowedException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { DomainError, RateLimitedError, validationFailed } from '../errors/index.js';
import { createLogger, rootLogger, setRootLogger } from '../logging/logger.js';
import { domainErrorFromHttp, ibmErrorBody } from './error-body.js';
import { sendError } from './error.filter.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

/** What sendError writes, captured. */
class CapturedReply {
  statusCode = 0;
  headers: Record<string, string> = {};
  body: unknown;
  status(code: number): this {
    this.statusCode = code;
    return this;
  }
  header(name: string, value: string): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }
  send(body: unknown): this {
    this.body = body;
    return this;
  }
}

describe('ibmErrorBody', () => {
  it('is {errors:[{code,message}], status_code, trace} with the status of the code', () => {
    expect(ibmErrorBody(new DomainError('NOT_FOUND', 'Secret s1 was not found'), TRACE)).toEqual({
      status: 404,
      body: { errors: [{ code: 'NOT_FOUND', message: 'Secret s1 was not found' }], status_code: 404, trace: TRACE },
    });
  });

  it('lists one error per invalid field, each naming its field as the target', () => {
    const error = validationFailed([
      { field: 'name', message: 'Required' },
      { field: 'labels.0', message: 'Too long' },
    ]);
    expect(ibmErrorBody(error, TRACE)).toEqual({
      status: 400,
      body: {
        errors: [
          { code: 'VALIDATION_FAILED', message: 'name: Required', target: { type: 'field', name: 'name' } },
          { code: 'VALIDATION_FAILED', message: 'labels.0: Too long', target: { type: 'field', name: 'labels.0' } },
        ],
        status_code: 400,
        trace: TRACE,
      },
    });
  });
});

describe('domainErrorFromHttp', () => {
  it('keeps a DomainError as it is', () => {
    const error = new DomainError('CONFLICT', 'exists');
    expect(domainErrorFromHttp(error)).toBe(error);
  });

  it.each([
    ['FST_ERR_CTP_BODY_TOO_LARGE', 'PAYLOAD_TOO_LARGE'],
    ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 'UNSUPPORTED_MEDIA_TYPE'],
    ['FST_ERR_CTP_INVALID_CONTENT_LENGTH', 'INVALID_BODY'],
    ['FST_ERR_CTP_EMPTY_JSON_BODY', 'INVALID_BODY'],
    ['FST_ERR_CTP_INVALID_JSON_BODY', 'INVALID_BODY'],
    ['FST_ERR_BAD_URL', 'ROUTE_NOT_FOUND'],
    ['FST_ERR_MAX_PARAM_LENGTH', 'URI_TOO_LONG'],
  ])('maps Fastify %s to %s', (code, expected) => {
    expect(domainErrorFromHttp(Object.assign(new Error('fastify'), { code, statusCode: 400 }))?.code).toBe(expected);
  });

  it.each([
    [new NotFoundException(), 'ROUTE_NOT_FOUND'],
    [new MethodNotAllowedException(), 'METHOD_NOT_ALLOWED'],
    [new PayloadTooLargeException(), 'PAYLOAD_TOO_LARGE'],
    [new BadRequestException(), 'INVALID_BODY'],
    [Object.assign(new Error('x'), { statusCode: 415 }), 'UNSUPPORTED_MEDIA_TYPE'],
  ])('maps an HTTP error %# by its status', (error, expected) => {
    expect(domainErrorFromHttp(error)?.code).toBe(expected);
  });

  it.each([[new Error('boom')], [Object.assign(new Error('x'), { statusCode: 500 })], ['a string'], [null], [undefined]])(
    'leaves anything else unmapped (%#), for the 500 path',
    (error) => {
      expect(domainErrorFromHttp(error)).toBeUndefined();
    },
  );
});

describe('sendError', () => {
  const previous = rootLogger();
  afterEach(() => setRootLogger(previous));

  it('answers a domain error with its status, the IBM body and a JSON content type', () => {
    const reply = new CapturedReply();
    sendError(new DomainError('FORBIDDEN', 'no'), reply);
    expect(reply.statusCode).toBe(403);
    expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(reply.body).toMatchObject({ errors: [{ code: 'FORBIDDEN', message: 'no' }], status_code: 403 });
  });

  it('answers an unexpected error with 500 INTERNAL and a generic message, and logs the details', () => {
    const lines: string[] = [];
    setRootLogger(createLogger({ app: 'test', level: 'error' }, { write: (line: string) => void lines.push(line) }));
    const reply = new CapturedReply();
    sendError(new Error('password=hunter2 rejected by db.internal'), reply);
    expect(reply.statusCode).toBe(500);
    expect(reply.body).toMatchObject({ errors: [{ code: 'INTERNAL', message: 'An internal error occurred' }], status_code: 500 });
    expect(JSON.stringify(reply.body)).not.toContain('hunter2');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ msg: 'unexpected error in the HTTP edge', err: { message: expect.stringContaining('db.internal') } });
  });

  it('adds Retry-After to 429 RATE_LIMITED', () => {
    const reply = new CapturedReply();
    sendError(new RateLimitedError(7), reply);
    expect(reply.statusCode).toBe(429);
    expect(reply.headers['retry-after']).toBe('7');
    const generic = new CapturedReply();
    sendError(new DomainError('RATE_LIMITED', 'slow down'), generic);
    expect(generic.headers['retry-after']).toBe('1');
  });
});
