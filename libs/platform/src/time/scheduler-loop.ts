import { rootLogger } from '../logging/index.js';
import type { Clock } from './clock.js';

/** What the loop runs: anything with `runDue(now)`. */
export interface DueRunner {
  runDue(now: number): Promise<unknown>;
}

export interface NamedRunner {
  /** Named in the warning when a run fails (`the <name> scheduler run failed`). */
  readonly name: string;
  readonly runner: DueRunner;
}

export interface SchedulerLoopOptions {
  /** Also run once as soon as the loop starts (e.g. to resume work a crashed process left). */
  readonly runAtStart?: boolean;
}

/**
 * Runs schedulers every `intervalMs` at the clock's time, one after the other. 0 means never (tests
 * call `runDue` or `tick` themselves). A tick while the previous run still goes is skipped; a failing
 * runner is logged, the others still run, and the next tick retries. The timer alone does not keep
 * the process alive; `stop` waits for a run in progress (call it before the database closes).
 */
export class SchedulerLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly clock: Clock,
    private readonly runners: readonly NamedRunner[],
    private readonly options: SchedulerLoopOptions = {},
  ) {}

  /** Whether the interval timer is set. */
  get started(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer || this.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
    if (this.options.runAtStart) void this.tick();
  }

  /** Stop the timer and wait for a run in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One run of every runner at the clock's now; while one is in progress, that one. */
  tick(): Promise<void> {
    this.running ??= this.runAll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runAll(): Promise<void> {
    const now = this.clock.nowMs();
    for (const { name, runner } of this.runners) {
      try {
        await runner.runDue(now);
      } catch (error) {
        rootLogger().warn({ err: error }, `the ${name} scheduler run failed; the next tick retries`);
      }
    }
  }
}
