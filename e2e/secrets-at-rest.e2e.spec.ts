import type { SecretsManagerClient } from '@sealbox/sm-client';
import { bucketNameFor } from '@sealbox/storage-drivers';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NeedleSearch, type Finding, s3Directory, scanDatabase, scanEventStream, scanFiles } from './harness/at-rest.js';
import { stackInfo } from './harness/context.js';
import { s3Client } from './harness/lifecycle.js';
import { poll } from './harness/http.js';
import { adminSession, createAccountOverNats, createServiceId, type AdminSession } from './harness/iam.js';
import { NatsCaller } from './harness/kms.js';
import { certificateFixtures, provisionSecretsInstance, smFailure, statusCode, type SecretsInstance } from './harness/secrets.js';

/**
 * No secret at rest: secrets of every type carrying random canaries are written (and rotated, and
 * read) through the gateway; then every object s3rver stores, every row of the run's PostgreSQL
 * database, every log and span file of the services and every message of the JetStream event stream
 * is read raw, and no canary is anywhere, in plain, hex or base64. The scans are proven to read the
 * right places by markers that must be found (the secret ids, a label). Then two envelopes are
 * swapped in the bucket behind the service's back: both reads fail with 422 INTEGRITY_FAILED.
 */

const stack = stackInfo();
const tag = `sm-rest-${stack.runId}`;
const certs = certificateFixtures(stack.root);
const canary = (what: string) => `${what}${randomBytes(16).toString('hex')}`;

/** The base64 body of a PEM private key, as one line: what must not leak of an imported key. */
const pemBody = (pem: string) => pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');

describe('secrets at rest (distributed stack: s3rver, PostgreSQL, logs, spans, JetStream)', () => {
  let nats: NatsCaller;
  let admin: AdminSession;
  let instance: SecretsInstance;
  let sm: SecretsManagerClient;
  /** Values that must be nowhere at rest. */
  const needles = new Map<string, string>();
  /** Ids of the secrets written: they must be found (metadata rows, object keys, events). */
  const secretIds: string[] = [];
  const marker = `marker-${randomBytes(6).toString('hex')}`;

  beforeAll(async () => {
    nats = await NatsCaller.open(stack);
    admin = await adminSession(stack, (await createAccountOverNats(stack, `${tag}-account`)).apikey);
    instance = await provisionSecretsInstance(stack, nats, admin, tag);
    sm = instance.sm;
    const serviceId = (await createServiceId(admin, `${tag}-svc`)).id;

    const arbitrary = [canary('arb1'), canary('arb2')];
    const passwords = [canary('pw1'), canary('pw2')];
    const kv = [canary('kv1'), canary('kv2')];
    const common = { labels: [marker] };

    const a = (await sm.createSecret({ secret_type: 'arbitrary', name: `${tag}-arbitrary`, payload: arbitrary[0] ?? '', ...common })).result;
    await sm.createSecretVersion(a.id, { payload: arbitrary[1] ?? '' });
    const u = (await sm.createSecret({ secret_type: 'username_password', name: `${tag}-userpass`, username: 'db-admin', password: passwords[0], ...common })).result;
    await sm.createSecretVersion(u.id, { password: passwords[1] });
    // A generated password is a secret too.
    const generated = (await sm.createSecret({ secret_type: 'username_password', name: `${tag}-generated`, username: 'app', ...common })).result;
    if (generated.secret_type !== 'username_password') throw new Error('expected a username_password secret');
    const k = (await sm.createSecret({ secret_type: 'kv', name: `${tag}-kv`, data: { token: kv[0], nested: { deep: kv[1] } }, ...common })).result;
    const c = (await sm.createSecret({ secret_type: 'imported_cert', name: `${tag}-cert`, certificate: certs.rsa.certificate, private_key: certs.rsa.privateKey, ...common }))
      .result;
    await sm.createSecretVersion(c.id, { certificate: certs.ec.certificate, private_key: certs.ec.privateKey });
    const i = (await sm.createSecret({ secret_type: 'iam_credentials', name: `${tag}-iam`, ttl: '1h', reuse_api_key: false, service_id: serviceId, ...common })).result;
    if (i.secret_type !== 'iam_credentials' || !i.api_key) throw new Error('expected an iam_credentials secret with an api_key');

    for (const [index, value] of arbitrary.entries()) needles.set(`arbitrary payload v${index + 1}`, value);
    for (const [index, value] of passwords.entries()) needles.set(`password v${index + 1}`, value);
    needles.set('generated password', generated.password);
    for (const [index, value] of kv.entries()) needles.set(`kv value ${index + 1}`, value);
    // The middle 64 characters of each key's base64 body (a PEM re-wrapped differently still has them).
    for (const [name, pem] of [['rsa', certs.rsa.privateKey], ['ec', certs.ec.privateKey]] as const) {
      const body = pemBody(pem);
      needles.set(`${name} private key`, body.slice(Math.floor(body.length / 2) - 32, Math.floor(body.length / 2) + 32));
    }
    needles.set('iam_credentials api_key', i.api_key);
    secretIds.push(a.id, u.id, generated.id, k.id, c.id, i.id);

    // Read every secret back (current and previous), so the read paths had their chance to leak too.
    for (const id of secretIds) {
      await sm.getSecret(id);
      await sm.listSecretVersions(id);
    }
    for (const id of [a.id, u.id, c.id]) await sm.getSecretVersion(id, 'previous');
  }, 120_000);

  afterAll(async () => {
    await nats?.close();
  });

  const report = (findings: readonly Finding[]) => findings.map((f) => `${[...needles].find(([, v]) => v === f.needle)?.[0]} (${f.as}) in ${f.where}`);

  it('finds no canary in any object of the S3 server, but finds the envelopes of every version there', () => {
    const search = new NeedleSearch([...needles.values()]);
    const files = scanFiles(search, s3Directory(stack));
    const bucketFiles = files.filter((file) => file.includes(bucketNameFor(instance.guid)));
    for (const id of secretIds) expect(bucketFiles.some((file) => file.includes(id)), `an object of secret ${id}`).toBe(true);
    expect(report(search.findings)).toEqual([]);
  });

  it('finds no canary in any row of any table of the PostgreSQL database, but finds the metadata there', async () => {
    const search = new NeedleSearch([...needles.values()]);
    const tables = await scanDatabase(search, stack.databaseUrl);
    expect(tables.length).toBeGreaterThan(5);
    expect(report(search.findings)).toEqual([]);

    const control = new NeedleSearch([marker, ...secretIds]);
    await scanDatabase(control, stack.databaseUrl);
    expect(new Set(control.findings.filter((f) => f.as === 'plain').map((f) => f.needle))).toEqual(new Set([marker, ...secretIds]));
  });

  it('finds no canary in the log and span files of the services', () => {
    const search = new NeedleSearch([...needles.values()]);
    const logs = scanFiles(search, stack.logDir);
    const spans = scanFiles(search, stack.spanDir);
    expect(logs.some((file) => file.endsWith('secrets.log'))).toBe(true);
    expect(spans.some((file) => file.endsWith('secrets.jsonl'))).toBe(true);
    expect(report(search.findings)).toEqual([]);
  });

  it('finds no canary in any message of the JetStream event stream, which has the events of these secrets', async () => {
    // The outbox relays after commit: read the whole stream until an event names every secret
    // written; the canaries are searched in that same read (anything published before it is in it).
    const { value: scan } = await poll(
      async () => {
        const search = new NeedleSearch([...needles.values(), ...secretIds]);
        const messages = await scanEventStream(search, stack.nats);
        return { search, messages, ids: new Set(search.findings.filter((f) => secretIds.includes(f.needle)).map((f) => f.needle)) };
      },
      (result) => result.ids.size === secretIds.length,
      { intervalMs: 500, maxPolls: 40 },
    );
    expect(scan.ids).toEqual(new Set(secretIds));
    expect(scan.messages.length).toBeGreaterThanOrEqual(secretIds.length);
    expect(report(scan.search.findings.filter((f) => !secretIds.includes(f.needle)))).toEqual([]);
  });

  it('refuses to read envelopes swapped in the bucket: 422 INTEGRITY_FAILED for both (two versions of one secret, and two secrets)', async () => {
    const client = s3Client(stack);
    const bucket = bucketNameFor(instance.guid);
    const read = async (key: string) => Buffer.concat(await (await client.getObject(bucket, key)).toArray());
    const swap = async (one: string, two: string) => {
      const [first, second] = [await read(one), await read(two)];
      expect(first.equals(second)).toBe(false);
      await client.putObject(bucket, one, second);
      await client.putObject(bucket, two, first);
    };
    const versionKey = (secretId: string, versionId: string) => `secrets/${secretId}/versions/${versionId}`;

    // Two versions of one secret: current and previous.
    const secret = (await sm.createSecret({ secret_type: 'arbitrary', name: `${tag}-swap`, payload: 'swap one' })).result;
    const current = (await sm.createSecretVersion(secret.id, { payload: 'swap two' })).result;
    const previous = (await sm.getSecretVersionMetadata(secret.id, 'previous')).result;
    await swap(versionKey(secret.id, current.id), versionKey(secret.id, previous.id));
    const integrity = { status: 422, code: 'INTEGRITY_FAILED' };
    expect(statusCode(await smFailure(sm.getSecret(secret.id)))).toEqual(integrity);
    expect(statusCode(await smFailure(sm.getSecretVersion(secret.id, 'current')))).toEqual(integrity);
    expect(statusCode(await smFailure(sm.getSecretVersion(secret.id, 'previous')))).toEqual(integrity);
    // Metadata does not need the envelope.
    expect((await sm.getSecretMetadata(secret.id)).result.versions_total).toBe(2);

    // The current versions of two secrets.
    const one = (await sm.createSecret({ secret_type: 'kv', name: `${tag}-swap-kv`, data: { a: 'one' } })).result;
    const two = (await sm.createSecret({ secret_type: 'kv', name: `${tag}-swap-kv2`, data: { a: 'two' } })).result;
    const oneVersion = (await sm.getSecretVersionMetadata(one.id, 'current')).result.id;
    const twoVersion = (await sm.getSecretVersionMetadata(two.id, 'current')).result.id;
    await swap(versionKey(one.id, oneVersion), versionKey(two.id, twoVersion));
    expect(statusCode(await smFailure(sm.getSecret(one.id)))).toEqual(integrity);
    expect(statusCode(await smFailure(sm.getSecret(two.id)))).toEqual(integrity);

    // Put back, both read again: the refusal was about the swap, not the secrets.
    await swap(versionKey(one.id, oneVersion), versionKey(two.id, twoVersion));
    expect((await sm.getSecret(one.id)).result).toMatchObject({ data: { a: 'one' } });
    expect((await sm.getSecret(two.id)).result).toMatchObject({ data: { a: 'two' } });
  });
});
