/**
 * The read-only `events` user of docker/nats.conf, on a nats-server of its own started with that very
 * file (port, store and monitoring port changed, the certificates made for the run, no cluster routes,
 * passwords from the environment as in compose): `events tail` reads what a service publishes through
 * JetStream, and the user can do nothing else.
 */
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { EVENTS_STREAM, healthSubject } from '@sealbox/contracts';
import { ensureEventsStream } from '@sealbox/platform';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNatsPki, type NatsPki } from '../../../../e2e/harness/nats-tls.js';
import { run } from '../cli.js';
import { ExitCode } from '../errors.js';
import type { CliIo } from '../io.js';
import { natsEventSource } from './nats-source.js';

const NATS_SERVER = process.env['NATS_SERVER_BIN'] ?? '/usr/sbin/nats-server';
const conf = readFileSync(new URL('../../../../docker/nats.conf', import.meta.url), 'utf8');
/**
 * Every `$NAME` the file reads from the environment, each with a password of its own. nats-server
 * parses a variable's value as a configuration value, so one starting with a digit (`5e3…`) breaks
 * the file: these start with a letter.
 */
const passwords = Object.fromEntries(
  [...new Set([...conf.matchAll(/\$([A-Z][A-Z0-9_]*)/g)].map((match) => match[1] as string))].map((name) => [name, `p${randomBytes(12).toString('hex')}`]),
);
const password = (name: string): string => {
  const value = passwords[name];
  if (!value) throw new Error(`docker/nats.conf does not read ${name}`);
  return value;
};

let dir: string;
let server: ChildProcess;
let url: string;
let iam: NatsConnection;
let events: NatsConnection;
let iamJsm: JetStreamManager;
let pki: NatsPki;

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  probe.close();
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

/** docker/nats.conf with only what cannot work outside compose changed. */
function localConf(port: number, storeDir: string): string {
  const replaced = conf
    .replace(/^port: 4222$/m, `port: ${port}`)
    .replace(/^http_port: 8222$/m, '')
    .replace(/^(\s*)store_dir: \/data$/m, `$1store_dir: "${storeDir}"`)
    // One server: the compose cluster's routes (nats-1..3) do not resolve here.
    .replace(/^cluster \{[\s\S]*?^\}$/m, '')
    .replaceAll('/etc/nats/certs/nats.pem', pki.server.certFile)
    .replaceAll('/etc/nats/certs/nats-key.pem', pki.server.keyFile)
    .replaceAll('/etc/nats/certs/ca.pem', pki.caFile);
  expect(replaced.match(/^port: \d+$/m)?.[0]).toBe(`port: ${port}`);
  expect(replaced).toContain(`store_dir: "${storeDir}"`);
  expect(replaced).not.toMatch(/http_port|\/etc\/nats|^cluster/m);
  expect(replaced).toMatch(/verify: true/);
  return replaced;
}

async function startServer(): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'sealbox-nats-events-'));
  pki = createNatsPki(join(dir, 'pki'), ['iam', 'events']);
  const port = await freePort();
  writeFileSync(join(dir, 'nats.conf'), localConf(port, join(dir, 'store')));
  server = spawn(NATS_SERVER, ['-c', join(dir, 'nats.conf'), '-a', '127.0.0.1'], { env: passwords, stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  server.stderr?.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`cannot start ${NATS_SERVER} (${error.message}); install nats-server or set NATS_SERVER_BIN`)));
    server.once('exit', (code) => reject(new Error(`nats-server exited with ${code}: ${output.trim()}`)));
    server.stderr?.on('data', (chunk: string) => {
      output += chunk;
      if (output.includes('Server is ready')) resolve();
    });
  });
  url = `nats://127.0.0.1:${port}`;
}

/** A client of the run's CA, as each compose service is (mutual TLS). */
const tlsOf = (user: string) => {
  const files = pki.client(user);
  return { ca: readFileSync(files.caFile, 'utf8'), cert: readFileSync(files.certFile, 'utf8'), key: readFileSync(files.keyFile, 'utf8') };
};

const connectAs = (user: string, inboxPrefix?: string) =>
  connect({ servers: url, user, pass: password(`${user.toUpperCase()}_NATS_PASSWORD`), tls: tlsOf(user), ...(inboxPrefix ? { inboxPrefix } : {}) });

beforeAll(async () => {
  await startServer();
  iam = await connectAs('iam', '_INBOX.iam');
  // What every service does at start.
  await ensureEventsStream(iam);
  iamJsm = await jetstreamManager(iam);
  events = await connectAs('events', '_INBOX.events');
});

afterAll(async () => {
  await events?.close();
  await iam?.close();
  if (server && server.exitCode === null) {
    const exited = once(server, 'exit');
    server.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cloudEvent = () => ({
  specversion: '1.0',
  id: randomUUID(),
  source: '/sealbox/iam',
  type: 'com.sealbox.iam.x',
  time: '2027-01-15T08:00:00.000Z',
  datacontenttype: 'application/json',
  data: { n: 1 },
});

const storedEvents = async () => (await iamJsm.streams.info(EVENTS_STREAM)).state.messages;

describe('the events user of docker/nats.conf', () => {
  it('follows with `events tail --nats-user events` an event the iam service publishes through JetStream', async () => {
    const sent = cloudEvent();
    let stdout = '';
    let stderr = '';
    let published: Promise<unknown> | undefined;
    const io: CliIo = {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: {
        write: (text: string) => {
          stderr += text;
          if (text.startsWith('Following')) published = jetstream(iam).publish('events.iam.x', JSON.stringify(sent));
        },
      },
      env: {
        SEALBOX_NATS_PASSWORD: password('EVENTS_NATS_PASSWORD'),
        SEALBOX_NATS_TLS_CA_FILE: pki.client('events').caFile,
        SEALBOX_NATS_TLS_CERT_FILE: pki.client('events').certFile,
        SEALBOX_NATS_TLS_KEY_FILE: pki.client('events').keyFile,
      },
      homedir: '/nonexistent',
      fetch: globalThis.fetch,
      nowMs: () => Date.now(),
      sleep: async () => undefined,
      pollIntervalMs: 1,
      events: natsEventSource,
    };

    const code = await run(['events', 'tail', '--nats', url, '--nats-user', 'events', '--count', '1', '--output', 'json'], io);
    await published;

    expect(stderr).toContain(`Following events.> on ${url}`);
    expect(code).toBe(ExitCode.OK);
    expect(JSON.parse(stdout) as unknown).toEqual(sent);
  });

  it('cannot call a service, publish an event, nor create, purge or delete the stream', async () => {
    const before = await storedEvents();
    const refused = (subject: string) =>
      expect.objectContaining({ cause: expect.objectContaining({ name: 'PermissionViolationError', operation: 'publish', subject }) });

    await expect(events.request(healthSubject('iam'), '{}')).rejects.toEqual(refused(healthSubject('iam')));
    await expect(events.request('events.iam.x', JSON.stringify(cloudEvent()))).rejects.toEqual(refused('events.iam.x'));
    await expect(jetstream(events).publish('events.iam.x', JSON.stringify(cloudEvent()))).rejects.toThrow(/Permissions Violation for Publish to "events\.iam\.x"/);

    const jsm = await jetstreamManager(events);
    await expect(jsm.streams.add({ name: 'SEALBOX_OTHER', subjects: ['other.>'] })).rejects.toThrow(/Permissions Violation for Publish to "\$JS\.API\.STREAM\.CREATE\.SEALBOX_OTHER"/);
    await expect(jsm.streams.update(EVENTS_STREAM, { max_msgs: 1 })).rejects.toThrow(/Permissions Violation for Publish to "\$JS\.API\.STREAM\.UPDATE\.SEALBOX_EVENTS"/);
    await expect(jsm.streams.purge(EVENTS_STREAM)).rejects.toThrow(/Permissions Violation for Publish to "\$JS\.API\.STREAM\.PURGE\.SEALBOX_EVENTS"/);
    await expect(jsm.streams.delete(EVENTS_STREAM)).rejects.toThrow(/Permissions Violation for Publish to "\$JS\.API\.STREAM\.DELETE\.SEALBOX_EVENTS"/);
    // The durable-only subject; CONSUMER.CREATE.<stream>.<name> cannot tell a durable from an ephemeral config.
    const durable = `$JS.API.CONSUMER.DURABLE.CREATE.${EVENTS_STREAM}.kept`;
    await expect(events.request(durable, JSON.stringify({ stream_name: EVENTS_STREAM, config: { durable_name: 'kept' } }))).rejects.toEqual(refused(durable));

    // Nothing got through: the stream holds what it held, and iam heard no request.
    const heard: string[] = [];
    const listener = iam.subscribe('iam.>', { callback: (_error, message) => void heard.push(message.subject) });
    await iam.flush();
    events.publish(healthSubject('iam'), '{}');
    await events.flush();
    await iam.flush();
    listener.unsubscribe();
    expect(heard).toEqual([]);
    expect(await storedEvents()).toBe(before);
    expect((await iamJsm.streams.info(EVENTS_STREAM)).config.max_msgs).not.toBe(1);
  });

  it('cannot listen to service subjects nor to other clients’ replies', async () => {
    for (const subject of ['iam.>', '_INBOX.>', 'secrets.secret.get']) {
      const subscription = events.subscribe(subject);
      await expect(subscription.closed).resolves.toEqual(
        expect.objectContaining({ name: 'PermissionViolationError', operation: 'subscription', subject }),
      );
    }
  });
});
