import { describe, expect, it } from 'vitest';
import { loadBenchSettings } from '../config.js';
import { createBench } from './index.js';
import { standaloneEnv } from './standalone.js';

describe('standalone rows', () => {
  const bench = createBench(loadBenchSettings({}));

  it('compare the authorized GET with /healthz of the same app, and that with bare fastify', () => {
    expect(bench.get('http.standalone.healthz').baseline).toBe('http.fastify');
    expect(bench.get('http.gateway.authorized').baseline).toBe('http.standalone.healthz');
    expect(bench.select(['http.gateway.authorized']).map((entry) => entry.name)).toEqual([
      'http.fastify',
      'http.standalone.healthz',
      'http.gateway.authorized',
    ]);
    expect(bench.get('http.gateway.authorized').uses).toBeUndefined();
  });

  it('start the app on a fresh data dir and a free port, rate limits off, ignoring SEALBOX_* settings of the shell', () => {
    const env = standaloneEnv('/tmp/sealbox-bench-x', {
      PATH: '/usr/bin',
      SEALBOX_TLS_CERT_FILE: '/etc/cert.pem',
      SEALBOX_DATA_DIR: './data',
      SEALBOX_RATE_LIMIT_IP_RPS: '200',
    });
    expect(env).toEqual({
      PATH: '/usr/bin',
      SEALBOX_DATA_DIR: '/tmp/sealbox-bench-x',
      SEALBOX_HOST: '127.0.0.1',
      SEALBOX_PORT: '0',
      SEALBOX_LOG_LEVEL: 'silent',
      SEALBOX_TRACING_EXPORTER: 'none',
      SEALBOX_RATE_LIMIT_IP_RPS: '0',
      SEALBOX_RATE_LIMIT_IDENTITY_RPS: '0',
    });
  });
});
