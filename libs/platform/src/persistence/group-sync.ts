/**
 * Coalesced flushes (group commit): `durable()` resolves once a flush that began AFTER the call has
 * finished, so whatever the caller wrote before calling is flushed. Callers that arrive while a flush
 * runs share the next one. Used for SQLite's WAL (commits) and the filesystem object store's
 * directories (renames).
 */
export class GroupSync {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(private readonly flush: () => Promise<void>) {}

  /** No flush running or waiting. */
  get idle(): boolean {
    return this.running === undefined && this.queued === undefined;
  }

  durable(): Promise<void> {
    if (!this.running) return this.start();
    // The running flush may have begun before the caller's write: the next one covers it.
    this.queued ??= this.running.then(
      () => this.next(),
      () => this.next(),
    );
    return this.queued;
  }

  private next(): Promise<void> {
    this.queued = undefined;
    return this.start();
  }

  private start(): Promise<void> {
    const run = this.flush().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }
}
