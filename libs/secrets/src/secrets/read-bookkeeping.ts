import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Clock, rootLogger, SchedulerLoop } from '@sealbox/platform';
import type { TenantScope } from '../registry/store.js';
import type { SecretEntity, SecretVersionEntity } from './entities.js';
import { SECRETS_OPTIONS, type SecretsDomainOptions } from './options.js';
import { SecretQueries, type ReadMark } from './queries.js';

/** One secret's reads not yet written. */
interface Pending {
  readonly scope: TenantScope;
  readonly secretId: string;
  /** When the first of these reads happened (clock ms): they are written once `readFlushIntervalMs` later. */
  readonly since: number;
  retrievedAt: number;
  currentOrdinal?: number;
  readonly versionIds: Set<string>;
}

/** How many marks one write carries at most. */
const WRITE_BATCH = 1000;

const keyOf = (instanceGuid: string, secretId: string) => `${instanceGuid}/${secretId}`;

/**
 * No write on the read path: a read with the payload records `retrieved_at` and `downloaded` here, in
 * memory, and the marks are written in batches (`SecretQueries.recordReads`) once they are
 * `readFlushIntervalMs` old, so each secret's row is written at most once per interval however often
 * it is read. Answers of this replica overlay the unwritten marks (`secret`, `version`), so a read
 * followed by a metadata GET says `downloaded: true` at once; other replicas see the marks once
 * written (up to the interval plus one tick late). The map holds at most `pendingReadsMax` secrets: a
 * read of one more first waits for everything pending to be written. Everything pending is written on
 * shutdown; a crash loses at most one interval of bookkeeping (never a secret or a version).
 */
@Injectable()
export class ReadBookkeeping implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly pending = new Map<string, Pending>();
  /** Marks being written: still overlaid until the write is done. */
  private readonly writing = new Map<string, Pending>();
  private queue: Promise<void> = Promise.resolve();
  private dropped = 0;
  private readonly loop: SchedulerLoop;

  constructor(
    @Inject(SECRETS_OPTIONS) private readonly options: SecretsDomainOptions,
    private readonly clock: Clock,
    private readonly queries: SecretQueries,
  ) {
    // Ticks ten times an interval, so a mark is written at most a tenth of an interval after it is due.
    const tickMs = options.readFlushIntervalMs > 0 ? Math.max(50, Math.floor(options.readFlushIntervalMs / 10)) : 0;
    this.loop = new SchedulerLoop(tickMs, clock, [{ name: 'secrets read bookkeeping', runner: this }]);
  }

  /** Secrets with unwritten reads. */
  get size(): number {
    return this.pending.size;
  }

  /** A read of `version` of `secret` (with its payload) at `at`. Waits only when the map is full. */
  async record(scope: TenantScope, secret: Pick<SecretEntity, 'id' | 'currentOrdinal'>, version: Pick<SecretVersionEntity, 'id' | 'ordinal'>, at: number): Promise<void> {
    const key = keyOf(scope.instanceGuid, secret.id);
    let entry = this.pending.get(key);
    if (!entry && this.pending.size >= this.options.pendingReadsMax) {
      await this.flush(() => true);
      entry = this.pending.get(key);
      if (!entry && this.pending.size >= this.options.pendingReadsMax) {
        // The database refused the early write too: the read is served, its bookkeeping dropped.
        this.dropped += 1;
        return;
      }
    }
    if (!entry) {
      entry = { scope: { accountId: scope.accountId, instanceGuid: scope.instanceGuid }, secretId: secret.id, since: at, retrievedAt: at, versionIds: new Set() };
      this.pending.set(key, entry);
    }
    entry.retrievedAt = Math.max(entry.retrievedAt, at);
    if (version.ordinal === secret.currentOrdinal) entry.currentOrdinal = Math.max(entry.currentOrdinal ?? 0, version.ordinal);
    entry.versionIds.add(version.id);
  }

  /** The secret as this replica knows it: its row with the unwritten reads on top. */
  secret(row: SecretEntity): SecretEntity {
    const marks = this.marksOf(row.instanceGuid, row.id);
    if (marks.length === 0) return row;
    let { downloaded, retrievedAt } = row;
    for (const mark of marks) {
      downloaded ||= mark.currentOrdinal === row.currentOrdinal;
      retrievedAt = retrievedAt === null ? mark.retrievedAt : Math.max(retrievedAt, mark.retrievedAt);
    }
    return { ...row, downloaded, retrievedAt };
  }

  /** The version as this replica knows it: `downloaded` once read here. */
  version(row: SecretVersionEntity): SecretVersionEntity {
    if (row.downloaded) return row;
    return this.marksOf(row.instanceGuid, row.secretId).some((mark) => mark.versionIds.has(row.id)) ? { ...row, downloaded: true } : row;
  }

  private marksOf(instanceGuid: string, secretId: string): Pending[] {
    const key = keyOf(instanceGuid, secretId);
    return [this.pending.get(key), this.writing.get(key)].filter((mark): mark is Pending => mark !== undefined);
  }

  /** Write the marks that are at least one interval old at `now` (the scheduler's tick). */
  async runDue(now: number): Promise<void> {
    await this.flush((entry) => entry.since + this.options.readFlushIntervalMs <= now);
  }

  /** Write every pending mark. */
  flushAll(): Promise<void> {
    return this.flush(() => true);
  }

  /** Writes go one after the other; a write takes the marks `due` selects when its turn comes. */
  private flush(due: (entry: Pending) => boolean): Promise<void> {
    const turn = this.queue.then(() => this.write(due));
    this.queue = turn;
    return turn;
  }

  private async write(due: (entry: Pending) => boolean): Promise<void> {
    const taken: Pending[] = [];
    for (const [key, entry] of this.pending) {
      if (!due(entry)) continue;
      this.pending.delete(key);
      this.writing.set(key, entry);
      taken.push(entry);
    }
    if (this.dropped > 0) {
      rootLogger().warn({ dropped: this.dropped }, 'secrets: read bookkeeping of some reads was dropped (the pending map was full and could not be written)');
      this.dropped = 0;
    }
    for (let start = 0; start < taken.length; start += WRITE_BATCH) {
      const batch = taken.slice(start, start + WRITE_BATCH);
      try {
        await this.queries.recordReads(batch.map(markOf));
      } catch (error) {
        rootLogger().warn({ err: error, secrets: batch.length }, 'secrets: could not write read bookkeeping; it is retried after an interval');
        this.requeue(batch);
      }
      for (const entry of batch) this.writing.delete(keyOf(entry.scope.instanceGuid, entry.secretId));
    }
  }

  /** Marks whose write failed go back (as new, so the next try is an interval later), where there is room. */
  private requeue(batch: readonly Pending[]): void {
    const now = this.clock.nowMs();
    for (const failed of batch) {
      const key = keyOf(failed.scope.instanceGuid, failed.secretId);
      const current = this.pending.get(key);
      if (!current) {
        if (this.pending.size >= this.options.pendingReadsMax) {
          this.dropped += 1;
          continue;
        }
        this.pending.set(key, { ...failed, since: now, versionIds: new Set(failed.versionIds) });
        continue;
      }
      current.retrievedAt = Math.max(current.retrievedAt, failed.retrievedAt);
      if (failed.currentOrdinal !== undefined) current.currentOrdinal = Math.max(current.currentOrdinal ?? 0, failed.currentOrdinal);
      for (const id of failed.versionIds) current.versionIds.add(id);
    }
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  /** After the servers stopped taking requests and before the database closes (it belongs to a module this one imports). */
  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
    await this.flushAll();
  }
}

function markOf(entry: Pending): ReadMark {
  return {
    ...entry.scope,
    secretId: entry.secretId,
    retrievedAt: entry.retrievedAt,
    ...(entry.currentOrdinal === undefined ? {} : { currentOrdinal: entry.currentOrdinal }),
    versionIds: [...entry.versionIds],
  };
}
