/**
 * The fault tier: the distributed stack under a steady write load (writers creating secrets through
 * the gateway, each create with an Idempotency-Key and retried after a 503 as a careful client
 * does) meets, one after the other: SIGKILL of every service (restarted at once, as a supervisor
 * would), a 10 s NATS outage, the database terminating every connection, and one of two secrets
 * replicas frozen (SIGSTOP) for 15 s. Then: every acknowledged write reads back intact, no answer was
 * a 500, every outbox is empty and every created secret has its event in the stream, every answered
 * create has its audit event. Recovery (the first second after a fault that reaches 80 % of the
 * throughput of the 3 s before it: the machine's load drifts, so a fixed baseline would measure the
 * machine) is measured per fault; a JSON report records every figure.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { EVENTS_STREAM, type CloudEvent } from '@sealbox/contracts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStackRunning, stackInfo, type StackApp } from '../harness/context.js';
import { adminSession, createAccountOverNats, type AdminSession } from '../harness/iam.js';
import { connectNats, NATS_SERVER, startNatsServer, waitForNatsServer } from '../harness/infra.js';
import { NatsCaller } from '../harness/kms.js';
import { runningProcesses, spawnApp, stopApp, stopProcesses } from '../harness/processes.js';
import { provisionSecretsInstance, type SecretsInstance } from '../harness/secrets.js';
import { WriteLoad } from './load.js';
import { internalErrorsIn, outboxRowsLeft, readBack, readyAgain, RECOVERED_SHARE, recoveryMs as recoveryAfter, statusCounts, writesReport } from './recovery.js';

const stack = stackInfo();
const tag = `faults-${stack.runId}`;
const WRITERS = 6;
const RECOVERY_GOAL_MS = 2000;
const FREEZE_MS = 15_000;
/** Quiet time between faults. */
const SETTLE_MS = 2000;
const NATS_OUTAGE_MS = 10_000;
const REPORT = process.env.SEALBOX_FAULTS_REPORT ?? join(stack.root, 'e2e', 'faults', 'report', 'latest.json');

/** Environment overrides of this tier: no rate limit in the way of the load; replicas leave their queue group while late. */
const OVERRIDES: Partial<Record<StackApp, Record<string, string>>> = {
  gateway: { SEALBOX_RATE_LIMIT_IP_RPS: '0', SEALBOX_RATE_LIMIT_IDENTITY_RPS: '0' },
  secrets: { SEALBOX_RPC_LEAVE_ON_LAG_MS: '1000' },
};
const envOf = (app: StackApp) => ({ ...stack.appEnv[app], ...OVERRIDES[app] });

interface FaultFigures {
  readonly fault: string;
  /** When the fault began and ended (the process ready again, NATS back, SIGCONT), ms since the load started. */
  readonly startedAt: number;
  readonly endedAt: number;
  /** Successful creates per second in the 3 s before the fault (the machine's load drifts: this is what recovery is measured against). */
  readonly before: number;
  /** From the end of the fault to the first second at 80 % of `before` again; null: not within the watch. */
  readonly recoveryMs: number | null;
  /** Successful creates per second while the fault lasted, and as a share of `before`. */
  readonly throughputDuring: number;
  readonly shareDuring: number;
  /** Answers by status while the fault lasted and during its recovery. */
  readonly statuses: Record<string, number>;
  /** Successful creates in each second from the start of the fault to the end of the watch. */
  readonly perSecond: number[];
}

describe('faults under write load (distributed stack)', () => {
  let admin: AdminSession;
  let instance: SecretsInstance;
  let load: WriteLoad;
  let baseline = 0;
  const faults: FaultFigures[] = [];
  /** When the gateway was killed: audit events of answers given in the second before may be lost. */
  let gatewayKilledAt: number | undefined;
  const database = new pg.Client({ connectionString: stack.databaseUrl });

  const start = (app: StackApp) => spawnApp(stack, app, envOf(app));

  /** Measure a fault: run it (`cause` resolves when it is over), then watch the recovery. */
  async function measure(fault: string, cause: () => Promise<void>, goalMs = RECOVERY_GOAL_MS): Promise<FaultFigures> {
    // Let the previous fault's recovery settle, then take the throughput of the 3 s before this one.
    await sleep(SETTLE_MS);
    const startedAt = performance.now();
    const before = load.successesBetween(startedAt - 3000, startedAt) / 3;
    await cause();
    const endedAt = performance.now();
    // Watch long enough to see full throughput again (or not).
    await sleep(goalMs + 2000);
    const recoveryMs = recoveryAfter(load, endedAt, before, Math.max(15_000, goalMs));
    const seconds = Math.max(0.001, (endedAt - startedAt) / 1000);
    const throughputDuring = load.successesBetween(startedAt, endedAt) / seconds;
    const figures: FaultFigures = {
      fault,
      startedAt: Math.round(startedAt - loadStartedAt),
      endedAt: Math.round(endedAt - loadStartedAt),
      before: Math.round(before * 10) / 10,
      recoveryMs,
      throughputDuring: Math.round(throughputDuring * 10) / 10,
      shareDuring: Math.round((throughputDuring / Math.max(before, 0.1)) * 100) / 100,
      statuses: statusCounts(load.samples.filter((sample) => sample.at >= startedAt && sample.at < performance.now())),
      perSecond: Array.from({ length: Math.floor((performance.now() - startedAt) / 1000) }, (_, second) =>
        load.successesBetween(startedAt + second * 1000, startedAt + (second + 1) * 1000),
      ),
    };
    faults.push(figures);
    console.log(`fault: ${JSON.stringify({ ...figures, baseline: Math.round(baseline) })}`);
    return figures;
  }

  let loadStartedAt = 0;

  beforeAll(async () => {
    // This tier's settings: the gateway without rate limits, two secrets replicas.
    await stopApp(stack, 'gateway');
    await stopApp(stack, 'secrets');
    start('gateway');
    start('secrets');
    start('secrets');
    await readyAgain(stack.gatewayUrl);
    const nats = await NatsCaller.open(stack);
    try {
      admin = await adminSession(stack, (await createAccountOverNats(stack, `${tag}-account`)).apikey);
      instance = await provisionSecretsInstance(stack, nats, admin, tag);
    } finally {
      await nats.close();
    }
    await database.connect();
    load = new WriteLoad(`${stack.gatewayUrl}/secrets-manager/${instance.guid}/api/v2/secrets`, admin.token, tag);
    loadStartedAt = performance.now();
    load.start(WRITERS);
    // Warm up 1 s, then 3 s of the throughput before any fault (reported; each fault compares with its own 3 s before).
    await sleep(4000);
    baseline = load.successesBetween(loadStartedAt + 1000, loadStartedAt + 4000) / 3;
  }, 180_000);

  afterAll(async () => {
    await load?.stop();
    await database.end().catch(() => undefined);
    // Leave every app running (SIGCONT a replica a failed test left frozen).
    for (const entry of runningProcesses(stack.pidFile, 'secrets')) {
      try {
        process.kill(entry.pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
    await ensureStackRunning(stack);
  }, 120_000);

  it('has a write throughput to compare with', () => {
    expect(baseline).toBeGreaterThan(1);
  });

  for (const app of ['secrets', 'storage', 'crypto', 'kms', 'iam', 'lifecycle', 'gateway'] as const satisfies readonly StackApp[]) {
    it(`recovers from SIGKILL of ${app === 'secrets' ? 'both secrets replicas' : app} (restarted at once)`, { timeout: 120_000 }, async () => {
      const replicas = runningProcesses(stack.pidFile, app).length;
      // The same goal for the gateway: the secrets service records the writers' Idempotency-Keys, so a
      // retry after the gateway's SIGKILL is forwarded at once (no claim of the dead gateway to wait for).
      const goalMs = RECOVERY_GOAL_MS;
      const figures = await measure(
        `SIGKILL ${app}`,
        async () => {
          if (app === 'gateway') gatewayKilledAt = performance.now();
          await stopApp(stack, app, { signal: 'SIGKILL' });
          for (let replica = 0; replica < replicas; replica++) start(app);
          await readyAgain(stack.gatewayUrl);
        },
        goalMs,
      );
      expect.soft(internalErrorsIn(figures.statuses), `500s during SIGKILL ${app}`).toBe(0);
      expect.soft(figures.recoveryMs, `recovery after SIGKILL ${app}`).not.toBeNull();
      expect.soft(figures.recoveryMs ?? Infinity, `recovery after SIGKILL ${app}`).toBeLessThanOrEqual(goalMs);
    });
  }

  it('recovers when PostgreSQL terminates every connection of the services', { timeout: 60_000 }, async () => {
    const figures = await measure('pg_terminate_backend', async () => {
      const terminated = await database.query<{ count: string }>(
        'SELECT count(pg_terminate_backend(pid)) AS count FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      expect(Number(terminated.rows[0]?.count)).toBeGreaterThan(0);
    });
    expect.soft(internalErrorsIn(figures.statuses), '500s after pg_terminate_backend').toBe(0);
    expect.soft(figures.recoveryMs ?? Infinity, 'recovery after pg_terminate_backend').toBeLessThanOrEqual(RECOVERY_GOAL_MS);
  });

  it('recovers from NATS stopped for 10 s', { timeout: 90_000 }, async () => {
    const figures = await measure('NATS stopped 10 s', async () => {
      await stopProcesses(runningProcesses(stack.pidFile, NATS_SERVER), { signal: 'SIGTERM', graceMs: 5000 });
      await sleep(NATS_OUTAGE_MS);
      await startNatsServer({ directory: join(stack.workDir, 'nats'), logDir: stack.logDir, pidFile: stack.pidFile, root: stack.root, apps: [] });
      await waitForNatsServer(stack.nats, 15_000);
    });
    expect.soft(internalErrorsIn(figures.statuses), '500s during the NATS outage').toBe(0);
    expect.soft(figures.recoveryMs ?? Infinity, 'recovery after the NATS outage').toBeLessThanOrEqual(RECOVERY_GOAL_MS);
  });

  it('keeps at least half its throughput with one of two secrets replicas frozen for 15 s', { timeout: 90_000 }, async () => {
    const [frozen] = runningProcesses(stack.pidFile, 'secrets');
    if (!frozen) throw new Error('no secrets replica runs');
    expect(runningProcesses(stack.pidFile, 'secrets')).toHaveLength(2);
    const figures = await measure('one of two secrets replicas frozen 15 s', async () => {
      process.kill(frozen.pid, 'SIGSTOP');
      try {
        await sleep(FREEZE_MS);
      } finally {
        process.kill(frozen.pid, 'SIGCONT');
      }
    });
    expect.soft(internalErrorsIn(figures.statuses), '500s during the freeze').toBe(0);
    expect.soft(figures.shareDuring, 'throughput during the freeze, as a share of before').toBeGreaterThanOrEqual(0.5);
    expect.soft(figures.recoveryMs ?? Infinity, 'recovery after the freeze').toBeLessThanOrEqual(RECOVERY_GOAL_MS);
  });

  it('lost no acknowledged write, answered no 500, delivered every outbox and audit event; writes the report', { timeout: 180_000 }, async () => {
    await load.stop();
    const stoppedAt = performance.now();
    await readyAgain(stack.gatewayUrl);

    // Every acknowledged write reads back with its payload; every outbox drained.
    const found = await readBack(stack.gatewayUrl, instance.guid, admin.token, load.acknowledged);
    const outboxes = await outboxRowsLeft(database);

    // The events in the stream: one secret.created per secret of the instance; one audit event per answered create.
    const listed = await fetch(`${stack.gatewayUrl}/secrets-manager/${instance.guid}/api/v2/secrets?limit=1`, {
      headers: { authorization: `Bearer ${admin.token}`, accept: 'application/json' },
    });
    const secretsInInstance = ((await listed.json()) as { total_count: number }).total_count;
    // The gateway's audit spool publishes within moments; give it a few seconds after the load.
    await sleep(Math.max(0, stoppedAt + 3000 - performance.now()));
    const stream = await streamCounts(instance.guid);
    const answeredCreates = load.samples.filter((sample) => sample.status !== 0).length;
    const answeredBeforeGatewayKill = gatewayKilledAt
      ? load.samples.filter((sample) => sample.status !== 0 && sample.at >= gatewayKilledAt! - 1000 && sample.at < gatewayKilledAt!).length
      : 0;

    const all = statusCounts(load.samples);
    const report = {
      at: new Date().toISOString(),
      writers: WRITERS,
      baselineCreatesPerSecond: Math.round(baseline * 10) / 10,
      writes: writesReport(load, found),
      answers: all,
      internalErrors: internalErrorsIn(all),
      outboxRowsLeft: outboxes,
      events: {
        secretsInInstance,
        secretCreatedEvents: stream.created,
        auditEventsForCreates: stream.audit,
        answeredCreates,
        auditAllowanceForGatewayKill: answeredBeforeGatewayKill,
      },
      faults,
      goals: { recoveryMs: RECOVERY_GOAL_MS, recoveredShare: RECOVERED_SHARE, freezeShare: 0.5 },
    };
    mkdirSync(dirname(REPORT), { recursive: true });
    writeFileSync(REPORT, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`fault tier report: ${REPORT}\n${JSON.stringify({ ...report, faults: faults.map((f) => ({ fault: f.fault, recoveryMs: f.recoveryMs, shareDuring: f.shareDuring })) }, null, 2)}`);

    expect(found.lost, 'acknowledged writes lost').toBe(0);
    // A create committed whose answer was lost (gateway killed, NATS stopped) is answered by its retry
    // with the same key as a replay, never 409 CONFLICT (its own name taken).
    expect(load.committedButUnanswered, 'retries of own creates answered 409 CONFLICT').toEqual([]);
    expect(found.corrupt, 'acknowledged writes corrupt').toBe(0);
    expect(found.readFailures).toEqual({});
    expect(internalErrorsIn(all), '500 answers').toBe(0);
    expect(outboxes).toEqual({ iam: 0, kms: 0, secrets: 0, lifecycle: 0 });
    expect(stream.created, 'secret.created events of the instance').toBe(secretsInInstance);
    expect(stream.audit, 'audit events of answered creates').toBeGreaterThanOrEqual(answeredCreates - answeredBeforeGatewayKill);
  });
});

/** secret.created events of the instance, and audit events of creates in it, in the event stream. */
async function streamCounts(instanceGuid: string): Promise<{ created: number; audit: number }> {
  const nc = await connectNats(stack.nats, 5_000);
  try {
    const manager = await jetstreamManager(nc);
    const info = await manager.streams.info(EVENTS_STREAM, { subjects_filter: '>' });
    const subjects = info.state.subjects ?? {};
    const wanted = ['events.secrets.secret.created', 'events.audit.request'];
    const counts = { created: 0, audit: 0 };
    // One subject per consumer (a list of filter subjects needs nats-server 2.10).
    for (const subject of wanted) {
      const consumer = await jetstream(nc).consumers.get(EVENTS_STREAM, { filter_subjects: subject });
      let seen = 0;
      while (seen < (subjects[subject] ?? 0)) {
        const batch = await consumer.fetch({ max_messages: 1000, expires: 2_000 });
        let received = 0;
        for await (const message of batch) {
          received++;
          seen++;
          const data = message.json<CloudEvent>().data as Record<string, unknown>;
          if (subject === 'events.secrets.secret.created') {
            if (JSON.stringify(data).includes(instanceGuid)) counts.created++;
          } else if (data['method'] === 'POST' && String(data['route']).endsWith('/api/v2/secrets')) {
            // This stack's NATS is the tier's own: every create of a secret at its gateway is the load's.
            counts.audit++;
          }
        }
        if (received === 0) break;
      }
    }
    return counts;
  } finally {
    await nc.close();
  }
}
