import { HealthResponse } from '@sealbox/contracts';
import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import rootPackage from '../../../../package.json' with { type: 'json' };
import { SEALBOX_VERSION } from '../version.js';
import { healthReport } from './health.js';

describe('SEALBOX_VERSION', () => {
  it('equals the version of the root package.json', () => {
    expect(SEALBOX_VERSION).toBe(rootPackage.version);
  });
});

describe('healthReport', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is ok when every check passes, and names the service, version and replica', async () => {
    const report = await healthReport('kms', { database: async () => undefined, hsm: async () => undefined });
    expect(report).toEqual({
      service: 'kms',
      version: SEALBOX_VERSION,
      replica: `${hostname()}:${process.pid}`,
      status: 'ok',
      checks: { database: { ok: true }, hsm: { ok: true } },
    });
    expect(HealthResponse.parse(report)).toEqual(report);
  });

  it('is ok with no checks at all', async () => {
    const report = await healthReport('crypto', {});
    expect(report.status).toBe('ok');
    expect(report.checks).toEqual({});
  });

  it('is degraded when a check fails, with the first line of its reason only', async () => {
    const report = await healthReport('iam', {
      database: async () => {
        throw new Error('connection refused\n    at Socket (postgres://sealbox:pw@db/sealbox)');
      },
      cache: async () => undefined,
    });
    expect(report.status).toBe('degraded');
    expect(report.checks).toEqual({ database: { ok: false, detail: 'connection refused' }, cache: { ok: true } });
  });

  it('shortens a long reason and reports a non-Error rejection as failed', async () => {
    const report = await healthReport('storage', {
      bucket: async () => {
        throw new Error('x'.repeat(500));
      },
      odd: () => Promise.reject('a bare string'),
    });
    expect(report.checks['bucket']?.detail).toHaveLength(200);
    expect(report.checks['odd']).toEqual({ ok: false, detail: 'failed' });
  });

  it('reports a check that never answers as failed after 800 ms instead of hanging', async () => {
    let settled = false;
    const pending = healthReport('secrets', { database: () => new Promise<void>(() => undefined), fast: async () => undefined }).then(
      (report) => {
        settled = true;
        return report;
      },
    );
    await vi.advanceTimersByTimeAsync(799);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const report = await pending;
    expect(report.status).toBe('degraded');
    expect(report.checks).toEqual({ database: { ok: false, detail: 'no answer within 800 ms' }, fast: { ok: true } });
  });

  it('leaves no timer behind once the checks answered', async () => {
    await healthReport('lifecycle', { database: async () => undefined });
    expect(vi.getTimerCount()).toBe(0);
  });
});
