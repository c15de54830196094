/**
 * Watches the event loop's lag (how late a repeating timer fires). A replica whose loop keeps being
 * late (CPU starved, a blocking call in a hot path) answers every request late: better that its
 * queue group's other members take the work. `onStall` runs when `stallSamples` samples in a row were
 * at least `thresholdMs` late, `onRecover` once the loop was on time again for `recoverMs`.
 * A loop blocked for good (or a process stopped with SIGSTOP) runs no timer at all: the NATS server's
 * PINGs disconnect such a client instead (ping_interval / ping_max in nats.conf).
 */
export interface LagWatchdogOptions {
  readonly intervalMs?: number;
  readonly thresholdMs?: number;
  readonly stallSamples?: number;
  readonly recoverMs?: number;
}

export class LagWatchdog {
  private timer: NodeJS.Timeout | undefined;
  private last = 0;
  private lateInARow = 0;
  private onTimeSince = 0;
  private stalled = false;
  private readonly intervalMs: number;
  private readonly thresholdMs: number;
  private readonly stallSamples: number;
  private readonly recoverMs: number;

  constructor(
    private readonly onStall: (lagMs: number) => void,
    private readonly onRecover: () => void,
    options: LagWatchdogOptions = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    this.intervalMs = options.intervalMs ?? 250;
    this.thresholdMs = options.thresholdMs ?? 500;
    this.stallSamples = options.stallSamples ?? 2;
    this.recoverMs = options.recoverMs ?? 2000;
  }

  start(): void {
    if (this.timer) return;
    this.last = this.now();
    this.onTimeSince = this.last;
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One timer tick: how late it came, and what that means (public for tests that drive time). */
  sample(): void {
    const now = this.now();
    const lag = Math.max(0, now - this.last - this.intervalMs);
    this.last = now;
    if (lag >= this.thresholdMs) {
      this.lateInARow++;
      this.onTimeSince = now;
      if (!this.stalled && this.lateInARow >= this.stallSamples) {
        this.stalled = true;
        this.onStall(lag);
      }
      return;
    }
    this.lateInARow = 0;
    if (this.stalled && now - this.onTimeSince >= this.recoverMs) {
      this.stalled = false;
      this.onRecover();
    }
  }
}
