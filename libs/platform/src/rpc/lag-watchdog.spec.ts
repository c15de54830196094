import { describe, expect, it } from 'vitest';
import { LagWatchdog } from './lag-watchdog.js';

/** A watchdog on a hand-moved clock: each tick says how late the timer fired. */
function watched() {
  let now = 0;
  const seen: string[] = [];
  const dog = new LagWatchdog(
    (lag) => seen.push(`stall ${lag}`),
    () => seen.push('recover'),
    { intervalMs: 100, thresholdMs: 500, stallSamples: 2, recoverMs: 1000 },
    () => now,
  );
  dog.start();
  const tick = (lateMs = 0) => {
    now += 100 + lateMs;
    dog.sample();
  };
  return { seen, tick, stop: () => dog.stop() };
}

describe('LagWatchdog', () => {
  it('stays quiet on a loop that is on time, or late once', () => {
    const { seen, tick, stop } = watched();
    for (let index = 0; index < 20; index++) tick(index === 5 ? 800 : 10);
    expect(seen).toEqual([]);
    stop();
  });

  it('reports a stall after two late samples in a row, once, and the recovery after a second on time', () => {
    const { seen, tick, stop } = watched();
    tick(600);
    tick(700);
    tick(900);
    expect(seen).toEqual(['stall 700']);
    for (let index = 0; index < 9; index++) tick();
    expect(seen).toEqual(['stall 700']);
    tick();
    expect(seen).toEqual(['stall 700', 'recover']);
    stop();
  });
});
