import { ManualClock } from '@sealbox/platform';
import type { EntityManager } from 'typeorm';
import { describe, expect, it } from 'vitest';
import type { SecretEntity, SecretVersionEntity } from './entities.js';
import { DEFAULT_SECRETS_DOMAIN_OPTIONS } from './options.js';
import { SecretQueries, type Placement, type ReadMark, type SecretView, type SecretViewByName } from './queries.js';
import { ReadBookkeeping } from './read-bookkeeping.js';
import { ROWS_T0 as T0, secretRow as rowOf, versionRow as versionOf } from './testing/rows.js';

/** Records the batches written; `failing` makes writes fail; `gate` holds a write until released. */
class RecordingQueries extends SecretQueries {
  readonly writes: ReadMark[][] = [];
  failing = false;
  gate: Promise<void> | undefined;

  async recordReads(marks: readonly ReadMark[]): Promise<void> {
    await this.gate;
    if (this.failing) throw new Error('database unavailable');
    this.writes.push([...marks]);
  }
  secretView(): Promise<SecretView> {
    throw new Error('not used');
  }
  secretViewByName(): Promise<SecretViewByName> {
    throw new Error('not used');
  }
  placement(): Promise<Placement> {
    throw new Error('not used');
  }
  insertCreated(_manager: EntityManager): Promise<boolean> {
    throw new Error('not used');
  }
  async close(): Promise<void> {}
}

const scope = { accountId: 'acct', instanceGuid: 'inst' };
const secretRow = (id: string, currentOrdinal = 1): SecretEntity => rowOf(scope, { id, currentOrdinal, versionsTotal: currentOrdinal });
const versionRow = (secretId: string, ordinal: number): SecretVersionEntity => versionOf({ ...scope, id: secretId }, ordinal, { id: `${secretId}-v${ordinal}` });

function setup(options: Partial<typeof DEFAULT_SECRETS_DOMAIN_OPTIONS> = {}) {
  const clock = new ManualClock(T0);
  const queries = new RecordingQueries();
  // Never bootstrapped, so no timer: the tests run `runDue` at the clock's time.
  const reads = new ReadBookkeeping({ ...DEFAULT_SECRETS_DOMAIN_OPTIONS, readFlushIntervalMs: 1000, ...options }, clock, queries);
  const read = (secret: SecretEntity, version: SecretVersionEntity) => reads.record(scope, secret, version, clock.nowMs());
  return { clock, queries, reads, read };
}

describe('ReadBookkeeping', () => {
  it('writes nothing on a read, then one mark per secret once it is an interval old, with the latest read', async () => {
    const { clock, queries, reads, read } = setup();
    const secret = secretRow('s1');
    const version = versionRow('s1', 1);
    await read(secret, version);
    clock.advance(400);
    await read(secret, version);
    await read(secretRow('s2'), versionRow('s2', 1));
    await reads.runDue(T0 + 999);
    expect(queries.writes).toEqual([]);
    await reads.runDue(T0 + 1000);
    expect(queries.writes).toEqual([[{ ...scope, secretId: 's1', retrievedAt: T0 + 400, currentOrdinal: 1, versionIds: ['s1-v1'] }]]);
    await reads.runDue(T0 + 1400);
    expect(queries.writes[1]?.map((mark) => mark.secretId)).toEqual(['s2']);
    expect(reads.size).toBe(0);
  });

  it('writes one secret at most once an interval however often it is read', async () => {
    const { clock, queries, reads, read } = setup();
    const secret = secretRow('s1');
    for (let step = 0; step < 30; step++) {
      await read(secret, versionRow('s1', 1));
      clock.advance(100);
      await reads.runDue(clock.nowMs());
    }
    // A read every 100 ms, a tick every 100 ms: written at 1000 (reads 0..900), 2000 (1000..1900), 3000 (2000..2900).
    expect(queries.writes.map((batch) => batch.map((mark) => mark.retrievedAt))).toEqual([[T0 + 900], [T0 + 1900], [T0 + 2900]]);
    expect(reads.size).toBe(0);
  });

  it('overlays unwritten reads on the rows this replica answers with, until and while they are written', async () => {
    const { clock, queries, reads, read } = setup();
    const secret = secretRow('s1', 2);
    const previous = versionRow('s1', 1);
    const current = versionRow('s1', 2);
    expect(reads.secret(secret)).toBe(secret);
    await read(secret, previous);
    // A read of a version that is not current: retrieved_at, not the secret's `downloaded`.
    expect(reads.secret(secret)).toMatchObject({ downloaded: false, retrievedAt: T0 });
    expect(reads.version(previous)).toMatchObject({ downloaded: true });
    expect(reads.version(current)).toMatchObject({ downloaded: false });
    clock.advance(10);
    await read(secret, current);
    expect(reads.secret(secret)).toMatchObject({ downloaded: true, retrievedAt: T0 + 10 });
    // A rotation since (current_ordinal 3): the read mark says nothing about the new current version.
    expect(reads.secret({ ...secret, currentOrdinal: 3 })).toMatchObject({ downloaded: false, retrievedAt: T0 + 10 });
    // A later retrieved_at in the row (another replica) wins.
    expect(reads.secret({ ...secret, retrievedAt: T0 + 50 })).toMatchObject({ retrievedAt: T0 + 50 });

    let release = () => {};
    queries.gate = new Promise<void>((resolve) => (release = resolve));
    const writing = reads.runDue(T0 + 1000);
    await Promise.resolve();
    expect(reads.size).toBe(0);
    expect(reads.secret(secret)).toMatchObject({ downloaded: true });
    expect(reads.version(current)).toMatchObject({ downloaded: true });
    release();
    await writing;
    expect(reads.secret(secret)).toBe(secret);
  });

  it('holds at most pendingReadsMax secrets: one more first waits for everything pending to be written', async () => {
    const { queries, reads, read } = setup({ pendingReadsMax: 2 });
    await read(secretRow('a'), versionRow('a', 1));
    await read(secretRow('b'), versionRow('b', 1));
    await read(secretRow('a'), versionRow('a', 1));
    expect(queries.writes).toEqual([]);
    await read(secretRow('c'), versionRow('c', 1));
    expect(queries.writes.map((batch) => batch.map((mark) => mark.secretId))).toEqual([['a', 'b']]);
    expect(reads.size).toBe(1);
  });

  it('keeps marks whose write failed (still overlaid) and retries them an interval later; drops what no longer fits', async () => {
    const { clock, queries, reads, read } = setup({ pendingReadsMax: 2 });
    const secret = secretRow('s1');
    await read(secret, versionRow('s1', 1));
    queries.failing = true;
    clock.advance(1000);
    await reads.runDue(clock.nowMs());
    expect(reads.size).toBe(1);
    expect(reads.secret(secret)).toMatchObject({ downloaded: true });
    await read(secretRow('s2'), versionRow('s2', 1));
    // Full and the database refuses the early write: the read is served, its bookkeeping dropped, the map stays bounded.
    await read(secretRow('s3'), versionRow('s3', 1));
    expect(reads.size).toBe(2);
    queries.failing = false;
    await reads.runDue(clock.nowMs() + 999);
    expect(queries.writes).toEqual([]);
    await reads.runDue(clock.nowMs() + 1000);
    expect(queries.writes.flat().map((mark) => mark.secretId).sort()).toEqual(['s1', 's2']);
  });

  it('writes everything pending on shutdown, whatever its age', async () => {
    const { queries, reads, read } = setup();
    await read(secretRow('s1'), versionRow('s1', 1));
    await read(secretRow('s2'), versionRow('s2', 1));
    await reads.onApplicationShutdown();
    expect(queries.writes.flat().map((mark) => mark.secretId)).toEqual(['s1', 's2']);
    expect(reads.size).toBe(0);
  });
});
