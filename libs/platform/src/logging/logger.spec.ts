import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTracing, type TracingHandle } from '../tracing/sdk.js';
import { tracer } from '../tracing/tracer.js';
import { createLogger, PinoNestLogger, prettyLogs, rootLogger, setRootLogger } from './logger.js';

type Line = Record<string, unknown>;

let lines: string[] = [];
const parsed = (): Line[] => lines.map((line) => JSON.parse(line) as Line);
const capture = { write: (line: string) => void lines.push(line) };
const SECRET = 'hunter2-s3cr3t';

let tracing: TracingHandle;

beforeAll(() => {
  // exporter `none` still gives spans real ids, as in every app.
  tracing = startTracing('logging-test', { exporter: 'none' });
});

afterAll(async () => {
  await tracing.shutdown();
});

beforeEach(() => {
  lines = [];
});

describe('createLogger', () => {
  it('writes one JSON line per record with the app name, level, time and message', () => {
    const logger = createLogger({ app: 'iam', level: 'info' }, capture);
    logger.info({ accountId: 'a1' }, 'account created');
    expect(parsed()).toEqual([
      expect.objectContaining({ app: 'iam', level: 30, msg: 'account created', accountId: 'a1', pid: process.pid }),
    ]);
    expect(parsed()[0]?.['time']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('drops records below the configured level and writes nothing when silent', () => {
    const logger = createLogger({ app: 'iam', level: 'warn' }, capture);
    logger.info('not written');
    logger.debug('not written either');
    logger.warn('written');
    expect(parsed().map((line) => line['msg'])).toEqual(['written']);
    createLogger({ app: 'iam', level: 'silent' }, capture).fatal('nothing');
    expect(lines).toHaveLength(1);
  });

  const cases: { name: string; record: Record<string, unknown>; paths: string[][] }[] = [
    { name: 'password', record: { password: SECRET }, paths: [['password']] },
    { name: 'apikey', record: { apikey: SECRET }, paths: [['apikey']] },
    { name: 'api_key and token at the top', record: { api_key: SECRET, token: SECRET }, paths: [['api_key'], ['token']] },
    {
      name: 'headers.authorization',
      record: { headers: { authorization: `Bearer ${SECRET}`, accept: 'application/json' } },
      paths: [['headers', 'authorization']],
    },
    { name: 'headers["iam-apikey"]', record: { headers: { 'iam-apikey': SECRET } }, paths: [['headers', 'iam-apikey']] },
    {
      name: 'req.headers.authorization',
      record: { req: { headers: { authorization: `Basic ${SECRET}` } } },
      paths: [['req', 'headers', 'authorization']],
    },
    { name: 'req.headers.cookie', record: { req: { headers: { cookie: `session=${SECRET}` } } }, paths: [['req', 'headers', 'cookie']] },
    { name: 'a nested *.token', record: { session: { token: SECRET, user: 'u1' } }, paths: [['session', 'token']] },
    {
      name: 'a nested *.access_token / *.refresh_token',
      record: { grant: { access_token: SECRET, refresh_token: SECRET } },
      paths: [['grant', 'access_token'], ['grant', 'refresh_token']],
    },
    { name: 'a top-level secret, whole', record: { secret: { value: SECRET } }, paths: [['secret']] },
    { name: 'a nested *.payload (secret material)', record: { request: { payload: SECRET, name: 'n' } }, paths: [['request', 'payload']] },
    {
      name: 'a nested *.dek / *.plaintext / *.privateKey',
      record: { wrap: { dek: SECRET, plaintext: SECRET, privateKey: SECRET } },
      paths: [['wrap', 'dek'], ['wrap', 'plaintext'], ['wrap', 'privateKey']],
    },
  ];

  it.each(cases)('redacts $name', ({ record, paths }) => {
    const logger = createLogger({ app: 'test', level: 'info' }, capture);
    logger.info(record, 'with secrets');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(SECRET);
    const line = parsed()[0] as Line;
    for (const path of paths) {
      let value: unknown = line;
      for (const key of path) value = (value as Line)[key];
      expect(value, path.join('.')).toBe('[REDACTED]');
    }
  });

  it('keeps the fields next to a redacted one', () => {
    const logger = createLogger({ app: 'test', level: 'info' }, capture);
    logger.info({ headers: { authorization: SECRET, accept: 'application/json' }, session: { token: SECRET, user: 'u1' } }, 'mixed');
    expect(parsed()[0]).toMatchObject({
      headers: { authorization: '[REDACTED]', accept: 'application/json' },
      session: { token: '[REDACTED]', user: 'u1' },
    });
  });

  it('redacts in child loggers too', () => {
    const child = createLogger({ app: 'test', level: 'info' }, capture).child({ component: 'outbox' });
    child.info({ password: SECRET }, 'child');
    expect(lines[0]).not.toContain(SECRET);
    expect(parsed()[0]).toMatchObject({ component: 'outbox', password: '[REDACTED]' });
  });

  it('puts the trace id and span id of the active span on lines written inside it, and none outside', () => {
    const logger = createLogger({ app: 'test', level: 'info' }, capture);
    logger.info('before');
    const ids = tracer().startActiveSpan('work', (span) => {
      logger.info('inside');
      const nested = tracer().startActiveSpan('nested', (inner) => {
        logger.info('inside nested');
        inner.end();
        return inner.spanContext();
      });
      span.end();
      return { outer: span.spanContext(), nested };
    });
    logger.info('after');

    const [before, inside, insideNested, after] = parsed();
    expect(ids.outer.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(ids.outer.traceId).not.toBe('0'.repeat(32));
    expect(inside).toMatchObject({ msg: 'inside', trace_id: ids.outer.traceId, span_id: ids.outer.spanId });
    expect(insideNested).toMatchObject({ msg: 'inside nested', trace_id: ids.outer.traceId, span_id: ids.nested.spanId });
    expect(ids.nested.spanId).not.toBe(ids.outer.spanId);
    expect(before).not.toHaveProperty('trace_id');
    expect(before).not.toHaveProperty('span_id');
    expect(after).not.toHaveProperty('trace_id');
  });

  it('follows the active span across await', async () => {
    const logger = createLogger({ app: 'test', level: 'info' }, capture);
    const traceId = await tracer().startActiveSpan('async work', async (span) => {
      await new Promise((resolve) => setImmediate(resolve));
      logger.info('after an await');
      span.end();
      return span.spanContext().traceId;
    });
    expect(parsed()[0]).toMatchObject({ msg: 'after an await', trace_id: traceId });
  });
});

describe('PinoNestLogger', () => {
  it("maps Nest levels onto pino levels and keeps the context; Nest's own log lines (route mapping…) are debug", () => {
    const nest = new PinoNestLogger(createLogger({ app: 'test', level: 'trace' }, capture));
    nest.log('log', 'Ctx');
    nest.warn('warn', 'Ctx');
    nest.debug('debug', 'Ctx');
    nest.verbose('verbose', 'Ctx');
    nest.fatal('fatal', 'Ctx');
    nest.error(new Error('boom'), 'stack here', 'Ctx');
    expect(parsed().map((line) => [line['level'], line['msg'], line['context']])).toEqual([
      [20, 'log', 'Ctx'],
      [40, 'warn', 'Ctx'],
      [20, 'debug', 'Ctx'],
      [10, 'verbose', 'Ctx'],
      [60, 'fatal', 'Ctx'],
      [50, 'boom', 'Ctx'],
    ]);
    expect(parsed()[5]).toMatchObject({ stack: 'stack here' });
  });
});

describe('rootLogger', () => {
  it('is a silent logger until set, then the logger that was set', () => {
    const previous = rootLogger();
    try {
      expect(previous.level).toBe('silent');
      const logger = createLogger({ app: 'root', level: 'info' }, capture);
      setRootLogger(logger);
      rootLogger().info({ apikey: SECRET }, 'via root');
      expect(parsed()).toEqual([expect.objectContaining({ app: 'root', msg: 'via root', apikey: '[REDACTED]' })]);
    } finally {
      setRootLogger(previous);
    }
  });
});

describe('deep redaction', () => {
  it('replaces sensitive keys at any depth and in any case, in objects, arrays and errors', async () => {
    const { redactDeep } = await import('./logger.js');
    const redacted = redactDeep({
      req: { body: { Password: 'p1', nested: [{ ApiKey: 'k1' }] } },
      config: { headers: { Authorization: 'Bearer t1', accept: 'json' } },
      token_type: 'Bearer',
    });
    const text = JSON.stringify(redacted);
    for (const secret of ['p1', 'k1', 't1']) expect(text).not.toContain(secret);
    expect(text).toContain('"token_type":"Bearer"');
    expect(text).toContain('"accept":"json"');
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    expect(JSON.stringify(redactDeep(cyclic))).toContain('[Circular]');
  });
});

describe('createLogger deep redaction', () => {
  it('keeps secrets out of log lines however deep they sit, including in logged errors', () => {
    const logger = createLogger({ app: 'test', level: 'info' }, capture);
    logger.info({ req: { body: { PASSWORD: SECRET } } }, 'deep');
    const error = Object.assign(new Error('request failed'), { config: { headers: { Authorization: `Bearer ${SECRET}` } } });
    logger.error({ err: error }, 'with error');
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).not.toContain(SECRET);
    expect(lines.join('\n')).toContain('request failed');
  });
});

describe('PinoNestLogger and a failed listen', () => {
  it('logs the failed listen Nest reports at debug: the app reports it as one start-up line', () => {
    const nest = new PinoNestLogger(createLogger({ app: 'test', level: 'trace' }, capture));
    nest.error('Error: listen EADDRINUSE: address already in use 127.0.0.1:8080', undefined, 'NestApplication');
    expect(parsed().map((line) => line['level'])).toEqual([20]);
  });
});

describe('log format', () => {
  it('is human-readable when asked, or on a terminal with auto (the default); JSON otherwise', () => {
    expect(prettyLogs(undefined, true)).toBe(true);
    expect(prettyLogs('auto', true)).toBe(true);
    expect(prettyLogs('auto', false)).toBe(false);
    expect(prettyLogs('pretty', false)).toBe(true);
    expect(prettyLogs('json', true)).toBe(false);
  });
});
