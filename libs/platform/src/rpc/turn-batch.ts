/**
 * Runs what is handed to it during one turn of the event loop together, at its end (`setImmediate`).
 *
 * Why: nats.js writes its outbound buffer to the socket on a microtask queued by the first publish of
 * a burst. The replies of requests served concurrently (and the requests of concurrent HTTP requests)
 * are produced in different microtask bursts of the same turn, so each went out in its own write(2) —
 * under load the largest single cost of a service after the work itself. Deferred to the end of the
 * turn, the publishes of that turn run back to back and leave in one write. A lone publish waits only
 * for the rest of the current turn (no timer).
 */
export class TurnBatch {
  private pending: (() => void)[] = [];
  private scheduled = false;

  /** Run `task` at the end of this turn, with every other task handed over during it. */
  defer(task: () => void): void {
    this.pending.push(task);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    const tasks = this.pending;
    this.pending = [];
    this.scheduled = false;
    for (const task of tasks) {
      try {
        task();
      } catch {
        // A task reports its own failure (ReplyInbox rejects its request); one failing must not keep the others back.
      }
    }
  };
}
