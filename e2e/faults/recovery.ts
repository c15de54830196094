import { ServiceNames } from '@sealbox/contracts';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { inParallel } from '../harness/secrets.js';
import type { Acknowledged, Sample, WriteLoad } from './load.js';

/** Recovery: the first 1 s window after a fault with at least this share of the throughput before it. */
export const RECOVERED_SHARE = 0.8;

/**
 * From `endedAt` (a fault's end, performance.now() ms) to the start of the first 1 s window whose
 * successful creates reach RECOVERED_SHARE of `before` (per second), looking `watchMs` ahead, in
 * 100 ms steps; null when none does.
 */
export function recoveryMs(load: WriteLoad, endedAt: number, before: number, watchMs: number): number | null {
  for (let from = endedAt; from <= endedAt + watchMs && from + 1000 <= performance.now(); from += 100) {
    if (load.successesBetween(from, from + 1000) >= RECOVERED_SHARE * before) return Math.round(from - endedAt);
  }
  return null;
}

/** How many answers were 500, whatever their code (statusCounts keys an answer with a code as `500 INTERNAL`). */
export function internalErrorsIn(counts: Readonly<Record<string, number>>): number {
  return Object.entries(counts)
    .filter(([key]) => key === '500' || key.startsWith('500 '))
    .reduce((sum, [, count]) => sum + count, 0);
}

/** Answers counted by "status code" (or status alone). */
export function statusCounts(samples: readonly Sample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const sample of samples) {
    const key = sample.code ? `${sample.status} ${sample.code}` : String(sample.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** What reading back every acknowledged write found. */
export interface ReadBack {
  /** 404: acknowledged, then gone. */
  readonly lost: number;
  /** Read back with another name or payload. */
  readonly corrupt: number;
  /** Any other final status, counted by status. */
  readonly readFailures: Record<string, number>;
}

/** Read every acknowledged write back through the gateway as a careful client does: again after a 503, up to 20 times. */
export async function readBack(gatewayUrl: string, instanceGuid: string, token: string, acknowledged: readonly Acknowledged[]): Promise<ReadBack> {
  let lost = 0;
  let corrupt = 0;
  const readFailures: Record<string, number> = {};
  await inParallel(acknowledged, 8, async (write) => {
    let response: Response | undefined;
    for (let attempt = 0; attempt < 20; attempt++) {
      response = await fetch(`${gatewayUrl}/secrets-manager/${instanceGuid}/api/v2/secrets/${write.id}`, {
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(10_000),
      }).catch(() => undefined);
      if (response && response.status !== 503) break;
      await sleep(200);
    }
    const status = response?.status ?? 0;
    if (status === 404) lost++;
    else if (status !== 200 || !response) readFailures[String(status)] = (readFailures[String(status)] ?? 0) + 1;
    else {
      const body = (await response.json()) as { name?: string; payload?: string };
      if (body.name !== write.name || body.payload !== write.payload) corrupt++;
    }
  });
  return { lost, corrupt, readFailures };
}

/** The rows left in each outbox, polled until every one is empty (the relays publish within a second or two) or 10 s passed. */
export async function outboxRowsLeft(database: pg.Client): Promise<Record<string, number>> {
  const outboxes: Record<string, number> = {};
  for (let attempt = 0; attempt < 50; attempt++) {
    for (const service of ServiceNames.filter((name) => ['iam', 'kms', 'secrets', 'lifecycle'].includes(name))) {
      const rows = await database.query<{ count: string }>(`SELECT count(*) AS count FROM sealbox_${service}.outbox_events`);
      outboxes[service] = Number(rows.rows[0]?.count);
    }
    if (Object.values(outboxes).every((count) => count === 0)) break;
    await sleep(200);
  }
  return outboxes;
}

/** Poll the gateway's /readyz every 50 ms until 200. */
export async function readyAgain(gatewayUrl: string, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const status = await fetch(`${gatewayUrl}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await sleep(50);
  }
  throw new Error(`the stack was not ready again within ${timeoutMs} ms`);
}

/** The report's `writes`: what the load acknowledged and what reading it back found. */
export function writesReport(load: WriteLoad, found: ReadBack) {
  return {
    acknowledged: load.acknowledged.length,
    acknowledgedByReplay: load.replays,
    notAcknowledged: load.unacknowledged.length,
    committedButUnanswered: load.committedButUnanswered.length,
    ...found,
  };
}
