import { describe, expect, it } from 'vitest';
import { parseCaseMessage } from './protocol.js';

describe('parseCaseMessage', () => {
  it('restores NaN latencies that JSON turned into null and drops an absent first error', () => {
    const wire = JSON.parse(
      JSON.stringify({
        kind: 'result',
        measurement: { unit: 'ops/s', concurrency: 1, operations: 0, errors: 3, elapsedMs: 10, throughput: 0, meanMs: Number.NaN, p50Ms: Number.NaN, p99Ms: Number.NaN },
      }),
    ) as unknown;
    const message = parseCaseMessage(wire);
    expect(message?.kind).toBe('result');
    if (message?.kind !== 'result') return;
    expect(message.measurement.p50Ms).toBeNaN();
    expect(message.measurement.meanMs).toBeNaN();
    expect('firstError' in message.measurement).toBe(false);
  });

  it('passes errors and rejects anything else', () => {
    expect(parseCaseMessage({ kind: 'error', message: 'boom' })).toEqual({ kind: 'error', message: 'boom' });
    expect(parseCaseMessage({ kind: 'result' })).toBeUndefined();
    expect(parseCaseMessage('ready')).toBeUndefined();
  });
});
