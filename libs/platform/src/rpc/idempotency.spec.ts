import { RpcHeaders } from '@sealbox/contracts';
import { describe, expect, it } from 'vitest';
import { decodeReply, encodeReply } from './codec.js';
import { consume } from './handler.js';
import type { HeaderMap } from './headers.js';
import { addIdempotencyHeaders, idempotencyKeyFrom } from './idempotency.js';

const KEY = 'a'.repeat(64);
const FINGERPRINT = 'b'.repeat(64);
const HEADERS = { [RpcHeaders.idempotencyKey]: KEY, [RpcHeaders.idempotencyFingerprint]: FINGERPRINT };
const REPORT = { service: 'secrets', version: '0.1.0', replica: 'r1', status: 'ok', checks: {} } as const;

describe('Idempotency-Key between processes', () => {
  it('reads a key only when both headers are SHA-256 hex (anything else is no key)', () => {
    expect(idempotencyKeyFrom(HEADERS)).toEqual({ key: KEY, fingerprint: FINGERPRINT });
    expect(idempotencyKeyFrom({ [RpcHeaders.idempotencyKey]: KEY })).toBeUndefined();
    expect(idempotencyKeyFrom({ ...HEADERS, [RpcHeaders.idempotencyKey]: 'my-client-key' })).toBeUndefined();
    expect(idempotencyKeyFrom({ ...HEADERS, [RpcHeaders.idempotencyFingerprint]: 'B'.repeat(64) })).toBeUndefined();
    expect(idempotencyKeyFrom(undefined)).toBeUndefined();
  });

  it('adds no header outside a keyed request, nor to a subject whose service does not record keys', () => {
    const headers: HeaderMap = {};
    addIdempotencyHeaders(headers, 'secrets.secret.create');
    addIdempotencyHeaders(headers, 'secrets.group.create');
    expect(headers).toEqual({});
  });

  it('hands the key to the handler and says in the reply when the handler answered a replay', async () => {
    const seen: unknown[] = [];
    const replayed = await consume('secrets.health', {}, HEADERS, async (_request, meta) => {
      seen.push({ key: meta.idempotency?.key, fingerprint: meta.idempotency?.fingerprint });
      meta.idempotency?.onReplay?.();
      return REPORT;
    });
    expect(seen).toEqual([{ key: KEY, fingerprint: FINGERPRINT }]);
    expect(decodeReply(encodeReply(replayed))).toEqual({ ok: REPORT, replayed: true });
    const first = await consume('secrets.health', {}, HEADERS, async () => REPORT);
    expect(decodeReply(encodeReply(first))).toEqual({ ok: REPORT });
    const unkeyed = await consume('secrets.health', {}, {}, async (_request, meta) => {
      seen.push(meta.idempotency);
      return REPORT;
    });
    expect(unkeyed).toEqual({ ok: REPORT });
    expect(seen[1]).toBeUndefined();
  });
});
