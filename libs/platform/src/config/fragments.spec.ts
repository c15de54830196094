import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  booleanFlag,
  DatabaseSettings,
  DataDirSettings,
  HttpSettings,
  logLevelOf,
  LogSettings,
  natsConfigOf,
  NatsSettings,
  tracingConfigOf,
  TracingSettings,
} from './fragments.js';
import { ConfigError, describeConfig, loadConfig } from './loader.js';

const Tracing = z.object(TracingSettings);
const Nats = z.object(NatsSettings);

/** The ConfigError thrown by `fn`. */
function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('tracingConfigOf', () => {
  it('exports nothing by default', () => {
    expect(tracingConfigOf(loadConfig(Tracing, {}))).toEqual({ exporter: 'none' });
  });

  it('sends spans to the OTLP endpoint', () => {
    const config = loadConfig(Tracing, {
      SEALBOX_TRACING_EXPORTER: 'otlp',
      SEALBOX_TRACING_OTLP_URL: 'http://otel-collector:4318/v1/traces',
    });
    expect(tracingConfigOf(config)).toEqual({ exporter: 'otlp', url: 'http://otel-collector:4318/v1/traces' });
  });

  it('writes spans to the file', () => {
    const config = loadConfig(Tracing, { SEALBOX_TRACING_EXPORTER: 'file', SEALBOX_TRACING_FILE: '/tmp/spans.jsonl' });
    expect(tracingConfigOf(config)).toEqual({ exporter: 'file', path: '/tmp/spans.jsonl' });
  });

  it('names the missing URL of the otlp exporter', () => {
    const error = configErrorOf(() => tracingConfigOf(loadConfig(Tracing, { SEALBOX_TRACING_EXPORTER: 'otlp' })));
    expect(error.problems).toEqual(['SEALBOX_TRACING_OTLP_URL: is required when SEALBOX_TRACING_EXPORTER=otlp']);
  });

  it('names the missing file of the file exporter', () => {
    const error = configErrorOf(() => tracingConfigOf(loadConfig(Tracing, { SEALBOX_TRACING_EXPORTER: 'file' })));
    expect(error.problems).toEqual(['SEALBOX_TRACING_FILE: is required when SEALBOX_TRACING_EXPORTER=file']);
  });

  it('refuses an unknown exporter and an invalid URL by name', () => {
    const error = configErrorOf(() =>
      loadConfig(Tracing, { SEALBOX_TRACING_EXPORTER: 'jaeger', SEALBOX_TRACING_OTLP_URL: 'otel-collector:4318' }),
    );
    expect(error.problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'SEALBOX_TRACING_EXPORTER',
      'SEALBOX_TRACING_OTLP_URL',
    ]);
  });

  it.each(['otel-collector:4318', 'grpc://otel-collector:4317', 'not a url'])('refuses %s as OTLP/HTTP endpoint', (url) => {
    const error = configErrorOf(() => loadConfig(Tracing, { SEALBOX_TRACING_OTLP_URL: url }));
    expect(error.problems).toEqual(['SEALBOX_TRACING_OTLP_URL: must be an http:// or https:// URL']);
  });
});

describe('natsConfigOf', () => {
  it('connects to the local NATS without credentials by default', () => {
    expect(natsConfigOf(loadConfig(Nats, {}))).toEqual({ servers: ['nats://127.0.0.1:4222'] });
  });

  it('splits a comma-separated server list and passes the credentials', () => {
    const config = loadConfig(Nats, {
      SEALBOX_NATS_URL: 'nats://a:4222, nats://b:4222,,',
      SEALBOX_NATS_USER: 'kms',
      SEALBOX_NATS_PASSWORD: 'pw',
    });
    expect(natsConfigOf(config)).toEqual({ servers: ['nats://a:4222', 'nats://b:4222'], user: 'kms', pass: 'pw' });
  });

  it('passes TLS files: the CA alone (server verified), or with a client certificate and key (mutual TLS)', () => {
    expect(natsConfigOf(loadConfig(Nats, { SEALBOX_NATS_TLS_CA_FILE: '/tls/ca.pem' })).tls).toEqual({ caFile: '/tls/ca.pem' });
    const mutual = loadConfig(Nats, { SEALBOX_NATS_TLS_CA_FILE: '/tls/ca.pem', SEALBOX_NATS_TLS_CERT_FILE: '/tls/kms.pem', SEALBOX_NATS_TLS_KEY_FILE: '/tls/kms-key.pem' });
    expect(natsConfigOf(mutual).tls).toEqual({ caFile: '/tls/ca.pem', certFile: '/tls/kms.pem', keyFile: '/tls/kms-key.pem' });
  });

  it('refuses a client certificate without its key, and a key without its certificate, naming the missing one', () => {
    expect(configErrorOf(() => natsConfigOf(loadConfig(Nats, { SEALBOX_NATS_TLS_CERT_FILE: '/tls/kms.pem' }))).problems).toEqual([
      'SEALBOX_NATS_TLS_KEY_FILE: is required with SEALBOX_NATS_TLS_CERT_FILE',
    ]);
    expect(configErrorOf(() => natsConfigOf(loadConfig(Nats, { SEALBOX_NATS_TLS_KEY_FILE: '/tls/kms-key.pem' }))).problems).toEqual([
      'SEALBOX_NATS_TLS_CERT_FILE: is required with SEALBOX_NATS_TLS_KEY_FILE',
    ]);
  });

  it('has a positive RPC deadline, 5 s by default', () => {
    expect(loadConfig(Nats, {}).SEALBOX_RPC_TIMEOUT_MS).toBe(5000);
    expect(configErrorOf(() => loadConfig(Nats, { SEALBOX_RPC_TIMEOUT_MS: '0' })).problems[0]).toMatch(/^SEALBOX_RPC_TIMEOUT_MS: /);
  });
});

describe('logLevelOf', () => {
  it('is info unless set', () => {
    expect(logLevelOf(loadConfig(z.object(LogSettings), {}))).toBe('info');
    expect(logLevelOf(loadConfig(z.object(LogSettings), { SEALBOX_LOG_LEVEL: 'silent' }))).toBe('silent');
  });
});

describe('booleanFlag', () => {
  it.each([
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ])('reads %s as %s', (text, value) => {
    expect(booleanFlag.parse(text)).toBe(value);
  });

  it.each(['yes', 'TRUE', 'on', ''])('refuses %j', (text) => {
    expect(booleanFlag.safeParse(text).success).toBe(false);
  });
});

describe('HTTP settings', () => {
  it('accept port 0 (any free port) and refuse a port out of range', () => {
    const Http = z.object(HttpSettings);
    expect(loadConfig(Http, { SEALBOX_PORT: '0' }).SEALBOX_PORT).toBe(0);
    expect(configErrorOf(() => loadConfig(Http, { SEALBOX_PORT: '65536' })).problems[0]).toMatch(/^SEALBOX_PORT: /);
  });
});

describe('shared settings', () => {
  const all = describeConfig(
    z.object({ ...LogSettings, ...TracingSettings, ...NatsSettings, ...DatabaseSettings, ...HttpSettings, ...DataDirSettings }),
  );

  it.each(all.map((variable) => [variable.name, variable] as const))('%s is documented', (_, variable) => {
    expect(variable.description.trim()).not.toBe('');
  });

  it('no credential has a default', () => {
    const credentials = all.filter((variable) => /PASSWORD|SECRET|TOKEN|DATABASE_URL/.test(variable.name));
    expect(credentials.map((variable) => variable.name)).toEqual(['SEALBOX_NATS_PASSWORD', 'SEALBOX_DATABASE_URL']);
    for (const variable of credentials) expect(variable.defaultValue).toBeUndefined();
  });
});
