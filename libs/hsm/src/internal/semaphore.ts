/** At most `permits` holders at a time; waiters are served in arrival order. */
export class Semaphore {
  private readonly waiters: Array<() => void> = [];
  private available: number;

  constructor(permits: number) {
    this.available = permits;
  }

  async acquire(): Promise<void> {
    if (this.available > 0) {
      this.available -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Hand the permit to the next waiter, or put it back. */
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.available += 1;
  }
}
