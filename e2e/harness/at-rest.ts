import { connectNats } from './infra.js';
import type { NatsClientOptions } from './nats-tls.js';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { EVENTS_STREAM } from '@sealbox/contracts';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { StackInfo } from './stack.js';

/**
 * Where a secret could leak at rest in the distributed stack, read raw: every object s3rver keeps on
 * disk, every row of every table of the run's PostgreSQL database, every log and span file, and every
 * message of the JetStream event stream. A needle (a canary, a generated password, an API key) is
 * searched as written, hex-encoded (bytea, hex dumps) and base64/base64url-encoded at each of the
 * three alignments a base64 encoder can put it in.
 */

/** One place a needle was found. */
export interface Finding {
  readonly needle: string;
  readonly where: string;
  readonly as: string;
}

/** The forms a needle takes in text or bytes, with their names. */
export function needleForms(needle: string): { readonly as: string; readonly value: string }[] {
  const bytes = Buffer.from(needle, 'utf8');
  const forms = [
    { as: 'plain', value: needle },
    { as: 'hex', value: bytes.toString('hex') },
  ];
  for (let shift = 0; shift < 3; shift++) {
    // Encode behind `shift` filler bytes, then keep only the characters that depend on the needle alone.
    const encoded = Buffer.concat([Buffer.alloc(shift, 0x20), bytes]).toString('base64');
    const start = shift === 0 ? 0 : 4;
    const end = Math.floor((shift + bytes.length) / 3) * 4;
    const stable = encoded.slice(start, end);
    if (stable.length >= 16) {
      forms.push({ as: `base64/${shift}`, value: stable });
      forms.push({ as: `base64url/${shift}`, value: stable.replaceAll('+', '-').replaceAll('/', '_') });
    }
  }
  return forms;
}

export class NeedleSearch {
  private readonly forms: { readonly needle: string; readonly as: string; readonly bytes: Buffer }[];
  readonly findings: Finding[] = [];
  /** How many places (files, rows, messages) were read. */
  scanned = 0;

  constructor(needles: readonly string[]) {
    this.forms = needles.flatMap((needle) => needleForms(needle).map((form) => ({ needle, as: form.as, bytes: Buffer.from(form.value, 'utf8') })));
  }

  /** Search one place's content. */
  check(where: string, content: Buffer | string): void {
    this.scanned++;
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    for (const form of this.forms) {
      if (bytes.includes(form.bytes)) this.findings.push({ needle: form.needle, where, as: form.as });
    }
  }
}

/** Every file under a folder (recursively), for `search.check`. Returns the files read. */
export function scanFiles(search: NeedleSearch, dir: string): string[] {
  if (!existsSync(dir)) return [];
  const files: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) files.push(...scanFiles(search, path));
    else {
      search.check(path, readFileSync(path));
      files.push(path);
    }
  }
  return files;
}

/** Every row of every table of every schema of the database, as text (`row::text`). Returns the table names. */
export async function scanDatabase(search: NeedleSearch, databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const tables = await client.query<{ table_schema: string; table_name: string }>(
      `SELECT table_schema, table_name FROM information_schema.tables
        WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
        ORDER BY 1, 2`,
    );
    const names: string[] = [];
    for (const { table_schema: schema, table_name: table } of tables.rows) {
      const qualified = `"${schema.replaceAll('"', '""')}"."${table.replaceAll('"', '""')}"`;
      const rows = await client.query<{ row: string }>(`SELECT t::text AS row FROM ${qualified} t`);
      for (const [index, { row }] of rows.rows.entries()) search.check(`${schema}.${table} row ${index}`, row);
      names.push(`${schema}.${table}`);
    }
    return names;
  } finally {
    await client.end();
  }
}

/**
 * Every message of the event stream, from its first to its last sequence at the time of the call
 * (an ordered consumer). Returns the messages read.
 */
export async function scanEventStream(search: NeedleSearch, nats: NatsClientOptions): Promise<string[]> {
  const nc = await connectNats(nats);
  try {
    const manager = await jetstreamManager(nc);
    const lastSeq = (await manager.streams.info(EVENTS_STREAM)).state.last_seq;
    const messages: string[] = [];
    if (lastSeq === 0) return messages;
    const consumer = await jetstream(nc).consumers.get(EVENTS_STREAM);
    for (let done = false; !done; ) {
      const batch = await consumer.fetch({ max_messages: 500, expires: 2_000 });
      let received = 0;
      for await (const message of batch) {
        received++;
        const text = message.string();
        search.check(`${EVENTS_STREAM} seq ${message.seq} (${message.subject})`, text);
        messages.push(text);
        if (message.seq >= lastSeq) done = true;
      }
      if (received === 0) throw new Error(`e2e: the event stream stopped before sequence ${lastSeq}`);
    }
    return messages;
  } finally {
    await nc.close();
  }
}

/** Where s3rver keeps the run's objects (global-setup starts it on `<workDir>/s3`). */
export const s3Directory = (stack: Pick<StackInfo, 'workDir'>) => join(stack.workDir, 's3');

