import { RpcHeaders } from '@sealbox/contracts';
import { describe, expect, it } from 'vitest';
import { consume } from './handler.js';

const REPORT = { service: 'kms', version: '0.1.0', replica: 'r1', status: 'ok', checks: {} } as const;

describe('consume', () => {
  it('answers the handler result as the ok of the reply', async () => {
    await expect(consume('kms.health', {}, {}, async () => REPORT)).resolves.toEqual({ ok: REPORT });
  });

  it('does not start work whose deadline has passed: the caller already gave up', async () => {
    let started = false;
    const reply = await consume('kms.health', {}, { [RpcHeaders.deadline]: String(Date.now() - 1) }, async () => {
      started = true;
      return REPORT;
    });
    expect(started).toBe(false);
    expect(reply).toEqual({ err: { code: 'SERVICE_UNAVAILABLE', message: 'The kms service received kms.health after its deadline' } });
  });

  it('runs work whose deadline is still ahead, and ignores a deadline header that is not a timestamp', async () => {
    for (const deadline of [String(Date.now() + 60_000), 'soon', '-5', '']) {
      await expect(consume('kms.health', {}, { [RpcHeaders.deadline]: deadline }, async () => REPORT)).resolves.toEqual({ ok: REPORT });
    }
  });
});
