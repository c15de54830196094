import { connectNats } from './infra.js';
import type { NatsClientOptions } from './nats-tls.js';
import IamPolicyManagementV1 from '@ibm-cloud/platform-services/iam-policy-management/v1.js';
import ResourceControllerV2 from '@ibm-cloud/platform-services/resource-controller/v2.js';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { EVENTS_STREAM, eventSubject, LifecycleWire, roleCrn, type EventName } from '@sealbox/contracts';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { IamAuthenticator } from 'ibm-cloud-sdk-core';
import * as Minio from 'minio';
import pg from 'pg';
import { bucketNameFor } from '@sealbox/storage-drivers';
import { poll } from './http.js';
import type { StackInfo } from './stack.js';

/**
 * Helpers of the lifecycle e2e tests: the official Resource Controller and IAM policy clients on the
 * gateway, the lifecycle test clock of the e2e stack, and the places an instance could leave
 * something behind (every PostgreSQL table, the S3 server).
 */

// ---- the official clients -----------------------------------------------------------------------

export interface LifecycleClients {
  readonly rc: ResourceControllerV2;
  readonly policies: IamPolicyManagementV1;
}

/** `ResourceControllerV2` and `IamPolicyManagementV1`, unchanged, with serviceUrl = the gateway. */
export function lifecycleClients(gatewayUrl: string, apikey: string): LifecycleClients {
  const authenticator = new IamAuthenticator({ apikey, url: gatewayUrl });
  return {
    rc: new ResourceControllerV2({ authenticator, serviceUrl: gatewayUrl }),
    policies: new IamPolicyManagementV1({ authenticator, serviceUrl: gatewayUrl }),
  };
}

export { apiFailure, statusOf, type ApiFailure } from './iam.js';

/** The instance as the gateway answers it, validated against the wire schema. */
export async function getInstance(rc: ResourceControllerV2, id: string): Promise<LifecycleWire.ResourceInstance> {
  const response = await rc.getResourceInstance({ id });
  return LifecycleWire.ResourceInstance.parse(response.result);
}

/** Poll an instance every 200 ms (at most `maxPolls` times) until `done`; returns the last answer. */
export async function pollInstance(
  rc: ResourceControllerV2,
  id: string,
  done: (instance: LifecycleWire.ResourceInstance) => boolean,
  maxPolls = 150,
): Promise<LifecycleWire.ResourceInstance> {
  return (await poll(() => getInstance(rc, id), done, { intervalMs: 200, maxPolls })).value;
}

export async function reclamationsOf(rc: ResourceControllerV2, instanceGuid: string): Promise<LifecycleWire.Reclamation[]> {
  const response = await rc.listReclamations({ resourceInstanceId: instanceGuid });
  return LifecycleWire.ReclamationsList.parse(response.result).resources;
}

/**
 * The service-to-service authorization a Secrets Manager instance needs on its root key: source
 * `secrets-manager` (one instance, or every instance when `sourceInstance` is absent), target the kms
 * instance, role Reader.
 */
export function keyAuthorization(accountId: string, kmsInstance: string, sourceInstance?: string): IamPolicyManagementV1.CreatePolicyParams {
  return {
    type: 'authorization',
    subjects: [
      {
        attributes: [
          { name: 'accountId', value: accountId },
          { name: 'serviceName', value: 'secrets-manager' },
          ...(sourceInstance ? [{ name: 'serviceInstance', value: sourceInstance }] : []),
        ],
      },
    ],
    roles: [{ role_id: roleCrn('Reader') }],
    resources: [
      {
        attributes: [
          { name: 'accountId', value: accountId },
          { name: 'serviceName', value: 'kms' },
          { name: 'serviceInstance', value: kmsInstance },
        ],
      },
    ],
  };
}

/** The authorization policies of the account whose subject names `serviceInstance`. */
export async function authorizationsFrom(policies: IamPolicyManagementV1, accountId: string, serviceInstance: string): Promise<IamPolicyManagementV1.Policy[]> {
  const listed = await policies.listPolicies({ accountId, type: 'authorization', limit: 100 });
  return listed.result.policies.filter((policy) =>
    (policy.subjects ?? []).some((subject) => (subject.attributes ?? []).some((attribute) => attribute.name === 'serviceInstance' && attribute.value === serviceInstance)),
  );
}

// ---- the lifecycle test clock ---------------------------------------------------------------------

/**
 * The e2e stack starts lifecycle through its test-clock entry (processes.ts appEntry) with
 * `SEALBOX_LIFECYCLE_TEST_CLOCK_FILE`: its clock is the system
 * time plus the ms in that file. Only lifecycle's time moves (reclamation target times, the sweep,
 * saga leases); every other service keeps the system time.
 */
export class LifecycleClock {
  constructor(private readonly file: string) {}

  static of(stack: Pick<StackInfo, 'appEnv'>): LifecycleClock {
    const file = stack.appEnv.lifecycle['SEALBOX_LIFECYCLE_TEST_CLOCK_FILE'];
    if (!file) throw new Error('e2e: the stack runs lifecycle without SEALBOX_LIFECYCLE_TEST_CLOCK_FILE (see harness/global-setup.ts)');
    return new LifecycleClock(file);
  }

  offsetMs(): number {
    if (!existsSync(this.file)) return 0;
    const value = Number(readFileSync(this.file, 'utf8').trim());
    return Number.isSafeInteger(value) ? value : 0;
  }

  /** Lifecycle's now, as its next reading will see it. */
  nowMs(): number {
    return Date.now() + this.offsetMs();
  }

  advance(ms: number): void {
    writeFileSync(this.file, String(this.offsetMs() + ms), { mode: 0o600 });
  }

  /**
   * Back to the system time. Sagas started while the clock was ahead hold leases that far in the
   * future: call this only once no saga of the test is unfinished.
   */
  reset(): void {
    writeFileSync(this.file, '0', { mode: 0o600 });
  }
}

// ---- what an instance may leave behind --------------------------------------------------------------

/** What lifecycle keeps of a removed instance, by design: GET answers `state: removed`, and its reclamations. */
export const LIFECYCLE_RECORDS = ['sealbox_lifecycle.reclamations', 'sealbox_lifecycle.resource_instances'];

/** A table that names the needle: where, and how many rows. */
export interface Remnant {
  readonly table: string;
  readonly rows: number;
}

/**
 * Every table of every schema of the run's database whose rows name one of `needles` anywhere
 * (`row::text`, so any column: ids, CRNs, JSON), except `allowed` tables (`schema.table`).
 */
export async function databaseRemnants(databaseUrl: string, needles: readonly string[], allowed: readonly string[] = []): Promise<Remnant[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const tables = await client.query<{ table_schema: string; table_name: string }>(
      `SELECT table_schema, table_name FROM information_schema.tables
        WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
        ORDER BY 1, 2`,
    );
    const remnants: Remnant[] = [];
    const patterns = needles.map((needle) => `%${needle.replace(/[\\%_]/g, (char) => `\\${char}`)}%`);
    for (const { table_schema: schema, table_name: table } of tables.rows) {
      const name = `${schema}.${table}`;
      if (allowed.includes(name)) continue;
      const qualified = `"${schema.replaceAll('"', '""')}"."${table.replaceAll('"', '""')}"`;
      const counted = await client.query<{ rows: string }>(`SELECT count(*) AS rows FROM ${qualified} t WHERE t::text LIKE ANY($1::text[])`, [patterns]);
      const rows = Number(counted.rows[0]?.rows ?? 0);
      if (rows > 0) remnants.push({ table: name, rows });
    }
    return remnants;
  } finally {
    await client.end();
  }
}

/** A client of the run's s3rver (it checks the access key only). */
export function s3Client(stack: Pick<StackInfo, 's3Endpoint'>): Minio.Client {
  const endpoint = new URL(stack.s3Endpoint);
  return new Minio.Client({
    endPoint: endpoint.hostname,
    port: Number(endpoint.port),
    useSSL: false,
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    region: 'us-east-1',
    pathStyle: true,
  });
}

/** Does the S3 server list a bucket of the instance? */
export async function bucketListed(s3: Minio.Client, instanceGuid: string): Promise<boolean> {
  const buckets = await s3.listBuckets();
  return buckets.some((bucket) => bucket.name === bucketNameFor(instanceGuid));
}

// ---- events ---------------------------------------------------------------------------------------

/**
 * The `data` of every event `name` in the JetStream event stream so far (an ordered consumer filtered
 * on the event's subject, up to the count the stream reports for it). One filter, sent as `filter_subject`:
 * NATS 2.9 has no `filter_subjects`.
 */
export async function eventsNamed(nats: NatsClientOptions, name: EventName): Promise<Record<string, unknown>[]> {
  const nc = await connectNats(nats);
  try {
    const subject = eventSubject(name);
    // How many there are now (per-subject counts of the stream), so no fetch waits for more.
    const info = await (await jetstreamManager(nc)).streams.info(EVENTS_STREAM, { subjects_filter: subject });
    const total = info.state.subjects?.[subject] ?? 0;
    const found: Record<string, unknown>[] = [];
    if (total === 0) return found;
    const consumer = await jetstream(nc).consumers.get(EVENTS_STREAM, { filter_subjects: subject });
    while (found.length < total) {
      const batch = await consumer.fetch({ max_messages: total - found.length, expires: 2_000 });
      let received = 0;
      for await (const message of batch) {
        received++;
        found.push(message.json<{ data?: Record<string, unknown> }>().data ?? {});
      }
      if (received === 0) throw new Error(`e2e: the event stream stopped after ${found.length} of ${total} ${name} events`);
    }
    return found;
  } finally {
    await nc.close();
  }
}
