import type { CloudEvent } from '@sealbox/contracts';
import { mkdir, open, readdir, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { EventPublisher } from './publisher.js';
import { Backoff, sleep } from '../time/backoff.js';

/** Where events are enqueued for publication, whatever keeps them meanwhile. */
export interface EventSink {
  enqueue(subject: string, event: CloudEvent): void;
}

export interface SpoolOptions {
  /** Enqueued events are written to the spool within this many ms (what a kill -9 can lose). */
  readonly writeDelayMs?: number;
  /** A written segment is fsynced at most this often (what an OS crash can lose). */
  readonly syncIntervalMs?: number;
  /** A segment file is closed for writing past this size; published segments are deleted. */
  readonly segmentBytes?: number;
  /** Events published at once (one broker round trip is not paid per event). */
  readonly window?: number;
  /** Longest wait between tries while the broker is away. */
  readonly maxBackoffMs?: number;
}

const DEFAULTS: Required<SpoolOptions> = { writeDelayMs: 10, syncIntervalMs: 1000, segmentBytes: 8 * 1024 * 1024, window: 128, maxBackoffMs: 5000 };
const LOCK = 'owner.pid';
const CURSOR = 'cursor.json';
const SEGMENT = /^(\d{12})\.jsonl$/;
const READ_CHUNK = 64 * 1024;

const segmentName = (seq: number) => `${String(seq).padStart(12, '0')}.jsonl`;

/** The first unpublished byte: a segment and an offset in it. */
interface Cursor {
  seq: number;
  offset: number;
}

/** Whether a process with this id runs (a lock left by a crashed one does not hold). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A durable queue of events for a process without a database (the gateway's audit trail): every
 * enqueued event is appended to a local spool file within a few milliseconds (`writeDelayMs`), and a
 * loop publishes the spool in order, recording how far it got in a cursor file. While the broker is
 * away the spool grows on disk (nothing is dropped); a restart, after SIGTERM or kill -9, replays from
 * the cursor. An event may be published twice (published, then a crash before the cursor moved): its
 * id is the JetStream message id, so the stream drops the copy within its duplicate window, and
 * subscribers deduplicate by CloudEvent id beyond it.
 *
 * The spool directory belongs to one process at a time (`owner.pid`); a lock left by a process that
 * no longer runs is taken over with everything it had not published.
 */
export class SpooledEventPublisher implements EventSink {
  private readonly options: Required<SpoolOptions>;
  private lines: string[] = [];
  private writeTimer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private writeSeq = 0;
  private writeHandle: FileHandle | undefined;
  private writeSize = 0;
  private lastSync = 0;
  private unsynced = false;
  private cursor: Cursor = { seq: 0, offset: 0 };
  private readHandle: { seq: number; handle: FileHandle } | undefined;
  private unpublished = 0;
  private wake: (() => void) | undefined;
  private pump: Promise<void> | undefined;
  private stopped = false;
  /** Aborted by close: ends a backoff wait at once. */
  private readonly stopping = new AbortController();
  /** While the broker is away, or a file operation fails; a published batch resets it. */
  private readonly backoff: Backoff;
  private accepting = true;

  private constructor(
    private readonly dir: string,
    private readonly publisher: EventPublisher,
    private readonly logger: Logger,
    options: SpoolOptions,
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.backoff = new Backoff({ initialMs: Math.min(250, this.options.maxBackoffMs), maxMs: this.options.maxBackoffMs, jitter: 'none' });
  }

  /** Take the spool directory (creating it), count what a previous run left unpublished, start publishing. */
  static async open(dir: string, publisher: EventPublisher, logger: Logger, options: SpoolOptions = {}): Promise<SpooledEventPublisher> {
    const spool = new SpooledEventPublisher(dir, publisher, logger, options);
    await spool.start();
    return spool;
  }

  enqueue(subject: string, event: CloudEvent): void {
    if (!this.accepting) return;
    this.lines.push(`${JSON.stringify([subject, event])}\n`);
    this.unpublished++;
    this.writeTimer ??= setTimeout(() => {
      this.writeTimer = undefined;
      void this.write();
    }, this.options.writeDelayMs);
  }

  /** Events not yet stored by the broker (in memory, or in the spool). */
  get pending(): number {
    return this.unpublished;
  }

  /**
   * Stop accepting, write what is queued to the spool (nothing enqueued is lost, whatever the
   * broker), try to publish it within `timeoutMs`, then stop. What is left is published by the next run.
   */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.stopped) return;
    this.accepting = false;
    await this.write();
    const deadline = Date.now() + timeoutMs;
    while (this.unpublished > 0 && Date.now() < deadline) await sleep(20, { unref: true });
    this.stopped = true;
    this.stopping.abort();
    this.wake?.();
    await this.pump;
    await this.writing;
    if (this.writeHandle) {
      await this.writeHandle.sync().catch(() => undefined);
      await this.writeHandle.close();
      this.writeHandle = undefined;
    }
    await this.readHandle?.handle.close();
    this.readHandle = undefined;
    if (this.unpublished > 0) this.logger.warn({ unpublished: this.unpublished, spool: this.dir }, 'events left in the spool; the next start publishes them');
    await rm(join(this.dir, LOCK), { force: true });
  }

  private async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await this.lock();
    const segments = (await readdir(this.dir)).flatMap((name) => {
      const match = SEGMENT.exec(name);
      return match ? [Number(match[1])] : [];
    });
    segments.sort((a, b) => a - b);
    const saved = await readFile(join(this.dir, CURSOR), 'utf8').then(
      (text) => JSON.parse(text) as Cursor,
      () => undefined,
    );
    const first = segments[0];
    this.cursor = saved && segments.includes(saved.seq) ? saved : { seq: first ?? 1, offset: 0 };
    // Segments before the cursor were published (the cursor moved past them before they were deleted).
    for (const seq of segments.filter((seq) => seq < this.cursor.seq)) await rm(join(this.dir, segmentName(seq)), { force: true });
    // A new segment per run: the last one of a killed run may end with half a line.
    this.writeSeq = (segments.at(-1) ?? 0) + 1;
    if (segments.length === 0) this.cursor = { seq: this.writeSeq, offset: 0 };
    this.writeHandle = await open(join(this.dir, segmentName(this.writeSeq)), 'a', 0o600);
    this.unpublished = await this.countLeft(segments);
    if (this.unpublished > 0) this.logger.info({ unpublished: this.unpublished, spool: this.dir }, 'publishing the events a previous run left in the spool');
    this.pump = this.run();
  }

  private async lock(): Promise<void> {
    const path = join(this.dir, LOCK);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await writeFile(path, String(process.pid), { flag: 'wx', mode: 0o600 });
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = Number(await readFile(path, 'utf8').catch(() => ''));
      if (Number.isSafeInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new Error(`The event spool ${this.dir} is in use by process ${owner}: give each process its own directory`);
      }
      // Left by a process that stopped without closing (kill -9, a crash): its events are ours to publish.
      await rm(path, { force: true });
    }
    throw new Error(`Could not lock the event spool ${this.dir}`);
  }

  /** Complete lines from the cursor to the end of the spool. */
  private async countLeft(segments: readonly number[]): Promise<number> {
    let count = 0;
    for (const seq of segments.filter((seq) => seq >= this.cursor.seq)) {
      const bytes = await readFile(join(this.dir, segmentName(seq)));
      const from = seq === this.cursor.seq ? this.cursor.offset : 0;
      for (let index = from; index < bytes.length; index++) if (bytes[index] === 0x0a) count++;
    }
    return count;
  }

  /** Append the queued lines to the current segment (one write at a time, in order). */
  private write(): Promise<void> {
    if (this.writeTimer) {
      clearTimeout(this.writeTimer);
      this.writeTimer = undefined;
    }
    this.writing = this.writing.then(async () => {
      if (this.lines.length === 0 || !this.writeHandle) return;
      const text = this.lines.join('');
      this.lines = [];
      try {
        await this.writeHandle.write(text);
        this.writeSize += Buffer.byteLength(text);
        this.unsynced = true;
        const now = Date.now();
        if (now - this.lastSync >= this.options.syncIntervalMs) {
          this.lastSync = now;
          this.unsynced = false;
          await this.writeHandle.sync();
        }
        if (this.writeSize >= this.options.segmentBytes) await this.rotate();
      } catch (error) {
        this.logger.error({ reason: error instanceof Error ? error.message : String(error), spool: this.dir }, 'could not write events to the spool');
      }
      this.wake?.();
    });
    return this.writing;
  }

  private async rotate(): Promise<void> {
    const handle = this.writeHandle;
    if (this.unsynced) await handle?.sync();
    await handle?.close();
    this.writeSeq++;
    this.writeSize = 0;
    this.writeHandle = await open(join(this.dir, segmentName(this.writeSeq)), 'a', 0o600);
  }

  /** Publish the spool from the cursor, in order, until closed; a failing file operation is logged and retried. */
  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.step();
      } catch (error) {
        this.logger.error({ reason: error instanceof Error ? error.message : String(error), spool: this.dir }, 'the event spool failed; retrying');
        await this.pause(this.backoff.next());
      }
    }
  }

  /** One batch (or one wait). */
  private async step(): Promise<void> {
    // Read before looking at the batch: once the writer moved on, nothing more is written to this segment.
    const finished = this.cursor.seq < this.writeSeq;
    const batch = await this.read().catch((error: unknown) => {
      this.logger.error({ reason: error instanceof Error ? error.message : String(error), spool: this.dir }, 'could not read the event spool');
      return undefined;
    });
    if (!batch) {
      // Waits as long as the last failure did, without counting one more.
      await this.pause(this.backoff.peek());
      return;
    }
    if (batch.items.length === 0) {
      if (finished) {
        // The end of a finished segment: everything in it is published.
        const done = this.cursor.seq;
        await this.readHandle?.handle.close();
        this.readHandle = undefined;
        this.cursor = { seq: done + 1, offset: 0 };
        await this.saveCursor();
        await rm(join(this.dir, segmentName(done)), { force: true });
        return;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        // In case a write finished between the read and now.
        setTimeout(resolve, 200).unref();
      });
      this.wake = undefined;
      return;
    }
    const results = await Promise.allSettled(batch.items.map((item) => this.publisher.publish(item.subject, item.event)));
    const failedAt = results.findIndex((result) => result.status === 'rejected');
    const done = failedAt === -1 ? batch.items.length : failedAt;
    if (done > 0) {
      this.cursor = { seq: this.cursor.seq, offset: batch.items[done - 1]!.end };
      this.unpublished = Math.max(0, this.unpublished - done);
      await this.saveCursor();
    }
    if (failedAt === -1) {
      this.backoff.reset();
      return;
    }
    const reason = (results[failedAt] as PromiseRejectedResult).reason as unknown;
    this.logger.warn({ reason: reason instanceof Error ? reason.message : String(reason), pending: this.unpublished }, 'could not publish events; they wait in the spool');
    await this.pause(this.backoff.next());
  }

  /** Wait `ms` (the broker is away), or less once closed. */
  private pause(ms: number): Promise<void> {
    return sleep(ms, { signal: this.stopping.signal, unref: true });
  }

  /** Up to `window` complete lines from the cursor, each with the offset just past it. */
  private async read(): Promise<{ items: { subject: string; event: CloudEvent; end: number }[]; skipped: number }> {
    if (this.readHandle?.seq !== this.cursor.seq) {
      await this.readHandle?.handle.close();
      this.readHandle = undefined;
      try {
        this.readHandle = { seq: this.cursor.seq, handle: await open(join(this.dir, segmentName(this.cursor.seq)), 'r') };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { items: [], skipped: 0 };
        throw error;
      }
    }
    const items: { subject: string; event: CloudEvent; end: number }[] = [];
    let skipped = 0;
    let offset = this.cursor.offset;
    let size = READ_CHUNK;
    while (items.length < this.options.window) {
      const buffer = Buffer.alloc(size);
      const { bytesRead } = await this.readHandle.handle.read(buffer, 0, size, offset);
      if (bytesRead === 0) break;
      let start = 0;
      let newline = buffer.indexOf(0x0a, start);
      if (newline === -1 || newline >= bytesRead) {
        if (bytesRead < size) break; // half a line: being written, or the end of a killed run's segment
        size *= 2; // a line longer than the chunk
        continue;
      }
      while (newline !== -1 && newline < bytesRead && items.length < this.options.window) {
        const line = buffer.toString('utf8', start, newline);
        const end = offset + newline + 1;
        try {
          const [subject, event] = JSON.parse(line) as [string, CloudEvent];
          items.push({ subject, event, end });
        } catch {
          // Not a line this spool wrote whole (a torn write): skip it.
          skipped++;
          this.unpublished = Math.max(0, this.unpublished - 1);
          if (items.length === 0) this.cursor = { seq: this.cursor.seq, offset: end };
        }
        start = newline + 1;
        newline = buffer.indexOf(0x0a, start);
      }
      offset += start;
      if (bytesRead < size) break;
    }
    return { items, skipped };
  }

  private async saveCursor(): Promise<void> {
    const path = join(this.dir, CURSOR);
    await writeFile(`${path}.tmp`, JSON.stringify(this.cursor), { mode: 0o600 });
    await rename(`${path}.tmp`, path);
  }
}
