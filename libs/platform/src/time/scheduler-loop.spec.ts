import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rootLogger, setRootLogger } from '../logging/index.js';
import { ManualClock } from './clock.js';
import { SchedulerLoop, type DueRunner } from './scheduler-loop.js';

const EMPTY = { done: 0 };

/** A runner that records the `now` of each run and can be held open or made to fail. */
class RecordingRunner implements DueRunner {
  readonly runs: number[] = [];
  fail = false;
  private release: (() => void) | undefined;
  private held: Promise<void> | undefined;

  hold(): void {
    this.held = new Promise((resolve) => (this.release = resolve));
  }

  finish(): void {
    this.release?.();
    this.held = undefined;
  }

  async runDue(now: number): Promise<typeof EMPTY> {
    this.runs.push(now);
    await this.held;
    if (this.fail) throw new Error('test: the run failed');
    return EMPTY;
  }
}

describe('SchedulerLoop', () => {
  const INTERVAL = 60_000;
  let clock: ManualClock;
  let rotation: RecordingRunner;
  let purge: RecordingRunner;
  let loop: SchedulerLoop;
  const previousLogger = rootLogger();
  const logged: string[] = [];

  beforeEach(() => {
    vi.useFakeTimers();
    clock = new ManualClock(Date.UTC(2026, 0, 1));
    rotation = new RecordingRunner();
    purge = new RecordingRunner();
    loop = new SchedulerLoop(INTERVAL, clock, [
      { name: 'rotation', runner: rotation },
      { name: 'purge', runner: purge },
    ]);
    logged.length = 0;
    setRootLogger(pino({ level: 'warn' }, { write: (line: string) => void logged.push(line) }));
  });

  afterEach(async () => {
    await loop.stop();
    vi.useRealTimers();
    setRootLogger(previousLogger);
  });

  it('runs every scheduler at the clock time on each interval, once started', async () => {
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(rotation.runs).toEqual([]);
    loop.start();
    expect(loop.started).toBe(true);
    await vi.advanceTimersByTimeAsync(INTERVAL - 1);
    expect(rotation.runs).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(rotation.runs).toEqual([clock.nowMs()]);
    expect(purge.runs).toEqual([clock.nowMs()]);
    clock.advance(5_000);
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(rotation.runs).toEqual([Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1) + 5_000]);
    expect(purge.runs).toHaveLength(2);
  });

  it('never starts with an interval of 0', async () => {
    const off = new SchedulerLoop(0, clock, [{ name: 'rotation', runner: rotation }]);
    off.start();
    expect(off.started).toBe(false);
    await vi.advanceTimersByTimeAsync(10 * INTERVAL);
    expect(rotation.runs).toEqual([]);
  });

  it('skips a tick while the previous run still goes', async () => {
    loop.start();
    rotation.hold();
    await vi.advanceTimersByTimeAsync(INTERVAL);
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(rotation.runs).toHaveLength(1);
    rotation.finish();
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(rotation.runs).toHaveLength(2);
  });

  it('logs a failing scheduler, still runs the others, and retries on the next tick', async () => {
    rotation.fail = true;
    await loop.tick();
    expect(purge.runs).toHaveLength(1);
    expect(logged.join('')).toContain('the rotation scheduler run failed');
    rotation.fail = false;
    await loop.tick();
    expect(rotation.runs).toHaveLength(2);
  });

  it('runs at once on start when asked to (runAtStart), then on each interval', async () => {
    const eager = new SchedulerLoop(INTERVAL, clock, [{ name: 'rotation', runner: rotation }], { runAtStart: true });
    eager.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(rotation.runs).toEqual([clock.nowMs()]);
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(rotation.runs).toHaveLength(2);
    await eager.stop();
  });

  it('stop clears the timer and waits for the run in progress', async () => {
    loop.start();
    rotation.hold();
    await vi.advanceTimersByTimeAsync(INTERVAL);
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(loop.started).toBe(false);
    expect(stopped).toBe(false);
    rotation.finish();
    await stopping;
    expect(stopped).toBe(true);
    await vi.advanceTimersByTimeAsync(3 * INTERVAL);
    expect(rotation.runs).toHaveLength(1);
  });
});
