import { DomainError, type RpcClient, type TransportStatus } from '@sealbox/platform';
import { describe, expect, it } from 'vitest';
import type { RevocationList } from './auth/revocations.js';
import { ReadinessService } from './readiness.service.js';

const healthy = { send: async () => ({ status: 'ok', version: '1.0.0', replica: 'host:1', checks: {} }) } as unknown as RpcClient;
const connected: TransportStatus = { isConnected: () => true, describe: () => 'nats connected' };

function revocations(loads: (() => Promise<void>)[]): RevocationList {
  const list = { loaded: false, reconcile: async () => {
    const next = loads.shift();
    if (!next) throw new Error('no more loads');
    await next();
    list.loaded = true;
  } };
  return list as unknown as RevocationList;
}

describe('ReadinessService', () => {
  it('is not ready until the token revocations were loaded from iam, then ready', async () => {
    const readiness = new ReadinessService(healthy, connected, revocations([() => Promise.reject(new Error('iam down')), () => Promise.resolve()]));
    const first = await readiness.check().catch((error: unknown) => error);
    expect(first).toBeInstanceOf(DomainError);
    expect((first as DomainError).code).toBe('SERVICE_UNAVAILABLE');
    expect((first as DomainError).message).toBe('Not ready: token revocations not loaded from iam yet');
    await expect(readiness.check()).resolves.toMatchObject({ status: 'ready', transport: 'nats connected' });
    // Loaded once is enough: no further load is asked for.
    await expect(readiness.check()).resolves.toMatchObject({ status: 'ready' });
  });

  it('names the transport when it is not connected', async () => {
    const down: TransportStatus = { isConnected: () => false, describe: () => 'nats reconnecting' };
    const readiness = new ReadinessService(healthy, down, revocations([]));
    await expect(readiness.check()).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: 'Not ready: nats reconnecting' });
  });
});
