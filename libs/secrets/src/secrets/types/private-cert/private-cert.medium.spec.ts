/**
 * private_cert through the real secrets module, crypto (envelope encryption over a fake kms), the
 * filesystem object store and a real database: CAs, templates, issuing, re-issuing, revoking, CRLs.
 * Certificates are checked with node:crypto (X509Certificate.verify, checkHost, checkIP) and with
 * `openssl verify -crl_check`, which knows nothing of this code.
 */
import 'reflect-metadata';
import { Controller, type INestMicroservice } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { ErrorCode, ResponseOf, SecretsWire, ValidatedRequestOf } from '@sealbox/contracts';
import { CryptoModule } from '@sealbox/crypto';
import {
  dataSourceToken,
  DomainError,
  InProcessBus,
  InProcessClient,
  InProcessEventBus,
  InProcessServer,
  ManualClock,
  RpcClient,
  RpcHandler,
  type Caller,
} from '@sealbox/platform';
import { testDatabases, testPlatformModule } from '@sealbox/platform/testing';
import { StorageModule } from '@sealbox/storage';
import { execFileSync } from 'node:child_process';
import { randomUUID, X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudEvent } from '../../../../../crypto/src/testing/envelope-fixture.js';
import { FAKE_DISABLED_CODE, FakeKms } from '../../../../../crypto/src/testing/fake-kms.js';
import { SecretsModule } from '../../../secrets.module.js';
import { createCsr, generateKeyPair, subjectName } from './x509.js';

const DAY = 86_400_000;
const kms = new FakeKms();

@Controller()
class FakeKmsController {
  @RpcHandler('kms.key.wrap')
  wrap(request: ValidatedRequestOf<'kms.key.wrap'>): Promise<ResponseOf<'kms.key.wrap'>> {
    return kms.send('kms.key.wrap', request);
  }
  @RpcHandler('kms.key.unwrap')
  unwrap(request: ValidatedRequestOf<'kms.key.unwrap'>): Promise<ResponseOf<'kms.key.unwrap'>> {
    return kms.send('kms.key.unwrap', request);
  }
}

async function failure(promise: Promise<unknown>, code: ErrorCode, field?: string): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
  if (field !== undefined) expect((error as DomainError).fields?.map((issue) => issue.field)).toContain(field);
  return error as DomainError;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** `openssl verify` (at `atMs`) of a leaf against a root, its intermediates and, with `crl`, the issuer's CRL: the tool's output (exit status in `ok`). */
function opensslVerify(dir: string, files: { root: string; intermediates?: string[]; leaf: string; crl?: string; atMs: number }): { ok: boolean; output: string } {
  const write = (name: string, text: string) => {
    const path = join(dir, `${randomUUID()}-${name}`);
    writeFileSync(path, text);
    return path;
  };
  // At the test clock's time: the certificates and CRLs are dated by it, not by the system clock.
  const args = ['verify', '-attime', String(Math.floor(files.atMs / 1000)), '-CAfile', write('root.pem', files.root)];
  if (files.intermediates?.length) args.push('-untrusted', write('chain.pem', files.intermediates.join('\n')));
  if (files.crl) args.push('-crl_check', '-CRLfile', write('ca.crl', files.crl));
  args.push(write('leaf.pem', files.leaf));
  try {
    return { ok: true, output: execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

function expectVerified(result: { ok: boolean; output: string }): void {
  expect(result.ok, result.output).toBe(true);
}

for (const database of testDatabases) {
  describe(`private_cert (${database.name})`, () => {
    let cleanup: () => Promise<void>;
    let app: INestMicroservice;
    let client: RpcClient;
    let dataSource: DataSource;
    let storageRoot: string;
    let workDir: string;
    const clock = new ManualClock();
    const events = new InProcessEventBus();
    const accountId = randomUUID().replaceAll('-', '');
    const user: Caller = { accountId, iamId: `IBMid-${randomUUID()}`, subType: 'user' };
    const as = { caller: user };

    let kmsKey = { instanceId: '', keyId: '' };
    async function newInstance(): Promise<string> {
      const instanceGuid = randomUUID();
      kmsKey = { instanceId: randomUUID(), keyId: randomUUID() };
      kms.createKey(kmsKey.instanceId, kmsKey.keyId);
      await client.send('secrets.instance.activate', {
        accountId,
        instanceGuid,
        crn: `crn:v1:bluemix:public:secrets-manager:us-south:a/${accountId}:${instanceGuid}::`,
        region: 'us-south',
        kmsKey,
      });
      await client.send('storage.bucket.create', { instanceGuid });
      return instanceGuid;
    }

    const configure = (instanceGuid: string, configuration: SecretsWire.ConfigurationPrototypeInput) =>
      client.send('secrets.configuration.create', { instanceGuid, configuration: configuration as SecretsWire.ConfigurationPrototype }, as);
    const act = (instanceGuid: string, name: string, action: SecretsWire.ConfigurationActionPrototype) => client.send('secrets.configuration.action', { instanceGuid, name, action }, as);
    const issue = (instanceGuid: string, secret: Omit<SecretsWire.SecretPrototypeInput & { secret_type: 'private_cert' }, 'secret_type'>) =>
      client.send('secrets.secret.create', { instanceGuid, secret: { secret_type: 'private_cert', ...secret } as SecretsWire.SecretPrototype }, as);
    type Cert = Extract<SecretsWire.Secret, { secret_type: 'private_cert' }>;

    /** A root CA and a template under it allowing *.example.com, IP SANs and spiffe:// URIs, 30 days at most. */
    async function rootAndTemplate(instanceGuid: string, template: Record<string, unknown> = {}) {
      const root = await configure(instanceGuid, { config_type: 'private_cert_configuration_root_ca', name: 'root', common_name: 'Example Root CA', max_ttl: '87600h', organization: ['Example'] });
      await configure(instanceGuid, {
        config_type: 'private_cert_configuration_template',
        name: 'web',
        certificate_authority: 'root',
        allowed_domains: ['example.com'],
        allow_subdomains: true,
        allow_bare_domains: true,
        allow_ip_sans: true,
        allowed_uri_sans: ['spiffe://example.com/*'],
        max_ttl: '720h',
        ...template,
      } as SecretsWire.ConfigurationPrototypeInput);
      return root.data?.certificate ?? '';
    }

    beforeAll(async () => {
      const opened = await database.open();
      storageRoot = mkdtempSync(join(tmpdir(), 'sealbox-pc-objects-'));
      workDir = mkdtempSync(join(tmpdir(), 'sealbox-pc-openssl-'));
      cleanup = async () => {
        await opened.cleanup();
        rmSync(storageRoot, { recursive: true, force: true });
        rmSync(workDir, { recursive: true, force: true });
      };
      const rpc = new InProcessBus();
      const moduleRef = await Test.createTestingModule({
        imports: [
          testPlatformModule({ events, clock, clientProxy: new InProcessClient(rpc), rpcTimeoutMs: 20_000 }),
          CryptoModule.register(),
          StorageModule.register({ objectStore: { driver: 'filesystem', root: storageRoot } }),
          SecretsModule.register({ database: opened.config, secrets: { schedulerIntervalMs: 0, orphanSweepIntervalMs: 0 } }),
        ],
        controllers: [FakeKmsController],
      }).compile();
      app = moduleRef.createNestMicroservice({ strategy: new InProcessServer(rpc), logger: false });
      await app.listen();
      client = app.get(RpcClient);
      dataSource = app.get<DataSource>(dataSourceToken('secrets'));
    });
    afterAll(async () => {
      await app?.close();
      await cleanup?.();
    });

    it('issues a certificate from a template that verifies against its root, with its SANs and key usages, and revokes it on the CRL', async () => {
      const instanceGuid = await newInstance();
      const rootPem = await rootAndTemplate(instanceGuid);
      const root = new X509Certificate(rootPem);
      expect(root.ca).toBe(true);
      expect(root.verify(root.publicKey)).toBe(true);

      const secret = (await issue(instanceGuid, {
        name: 'api-cert',
        certificate_template: 'web',
        common_name: 'api.example.com',
        alt_names: ['www.example.com'],
        ip_sans: '10.0.0.1',
        uri_sans: 'spiffe://example.com/api',
        ttl: '48h',
      })) as Cert;
      expect(secret).toMatchObject({ secret_type: 'private_cert', certificate_template: 'web', certificate_authority: 'root', common_name: 'api.example.com', key_algorithm: 'RSA2048', issuer: 'Example Root CA' });
      expect(secret.private_key).toContain('-----BEGIN PRIVATE KEY-----');
      expect(secret.issuing_ca).toBe(rootPem);
      expect(secret.ca_chain).toEqual([rootPem]);

      const leaf = new X509Certificate(secret.certificate);
      expect(leaf.verify(root.publicKey)).toBe(true);
      expect(leaf.checkIssued(root)).toBe(true);
      expect(leaf.ca).toBe(false);
      expect(leaf.checkHost('api.example.com')).toBe('api.example.com');
      expect(leaf.checkHost('www.example.com')).toBe('www.example.com');
      expect(leaf.checkHost('evil.example.org')).toBeUndefined();
      expect(leaf.checkIP('10.0.0.1')).toBe('10.0.0.1');
      expect(leaf.subjectAltName).toContain('URI:spiffe://example.com/api');
      expect(leaf.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
      expect(Date.parse(leaf.validTo) - clock.nowMs()).toBeLessThanOrEqual(48 * 3600_000 + 1000);
      expect(secret.expiration_date).toBe(new Date(leaf.validTo).toISOString());

      const emptyCrl = await client.send('secrets.configuration.crl', { instanceGuid, name: 'root' });
      expectVerified(opensslVerify(workDir, { root: rootPem, leaf: secret.certificate, crl: emptyCrl.crl, atMs: clock.nowMs() }));

      const revoked = await client.send('secrets.secret.action', { instanceGuid, id: secret.id, action: { action_type: 'private_cert_action_revoke_certificate' } }, as);
      expect(revoked.revocation_time_seconds).toBe(Math.floor(clock.nowMs() / 1000));
      const crl = await client.send('secrets.configuration.crl', { instanceGuid, name: 'root' });
      const verified = opensslVerify(workDir, { root: rootPem, leaf: secret.certificate, crl: crl.crl, atMs: clock.nowMs() });
      expect(verified.ok).toBe(false);
      expect(verified.output).toMatch(/certificate revoked/);
      const metadata = await client.send('secrets.secret.metadata.get', { instanceGuid, id: secret.id }, as);
      expect(metadata).toMatchObject({ revocation_time_seconds: revoked.revocation_time_seconds });
    });

    it('chains through an intermediate signed by the root, and an intermediate signed outside (CSR, set_signed)', async () => {
      const instanceGuid = await newInstance();
      const rootPem = await rootAndTemplate(instanceGuid);
      const intermediate = await configure(instanceGuid, {
        config_type: 'private_cert_configuration_intermediate_ca',
        name: 'issuing',
        common_name: 'Example Issuing CA',
        max_ttl: '8760h',
        signing_method: 'internal',
        issuer: 'root',
        key_type: 'ec',
        key_bits: 384,
      });
      expect(intermediate).toMatchObject({ status: 'configured', issuer: 'root' });
      await configure(instanceGuid, { config_type: 'private_cert_configuration_template', name: 'svc', certificate_authority: 'issuing', allowed_domains: ['svc.internal'], allow_subdomains: true, key_type: 'ec', key_bits: 256 });
      const secret = (await issue(instanceGuid, { name: 'svc-cert', certificate_template: 'svc', common_name: 'a.svc.internal' })) as Cert;
      expect(secret).toMatchObject({ key_algorithm: 'EC256', signing_algorithm: 'ECDSA-SHA384', certificate_authority: 'issuing' });
      expect(secret.ca_chain).toEqual([intermediate.data?.certificate, rootPem]);
      const crl = await client.send('secrets.configuration.crl', { instanceGuid, name: 'issuing' });
      expectVerified(opensslVerify(workDir, { root: rootPem, intermediates: [intermediate.data?.certificate ?? ''], leaf: secret.certificate, crl: crl.crl, atMs: clock.nowMs() }));

      // Signed outside: the CSR goes out, the root signs it (as another CA would), set_signed brings it back.
      const external = await configure(instanceGuid, { config_type: 'private_cert_configuration_intermediate_ca', name: 'outside', common_name: 'Outside CA', max_ttl: '8760h', signing_method: 'external' });
      expect(external.status).toBe('signing_required');
      const csr = external.data?.csr ?? '';
      expect(csr).toContain('CERTIFICATE REQUEST');
      const signed = await act(instanceGuid, 'root', { action_type: 'private_cert_configuration_action_sign_csr', csr, ttl: '8760h' });
      await failure(act(instanceGuid, 'outside', { action_type: 'private_cert_configuration_action_set_signed', certificate: rootPem }), 'VALIDATION_FAILED', 'certificate');
      await act(instanceGuid, 'outside', { action_type: 'private_cert_configuration_action_set_signed', certificate: signed.data?.certificate ?? '' });
      const outside = await client.send('secrets.configuration.get', { instanceGuid, name: 'outside', configType: 'private_cert_configuration_intermediate_ca' }, as);
      expect(outside.status).toBe('configured');
      await configure(instanceGuid, { config_type: 'private_cert_configuration_template', name: 'out', certificate_authority: 'outside', allow_any_name: true });
      const fromOutside = (await issue(instanceGuid, { name: 'out-cert', certificate_template: 'out', common_name: 'anything.test' })) as Cert;
      expectVerified(opensslVerify(workDir, { root: rootPem, intermediates: [outside.data?.certificate ?? ''], leaf: fromOutside.certificate, atMs: clock.nowMs() }));

      // The intermediate's own certificate revoked: on the root's CRL, and the intermediate signs no more.
      await act(instanceGuid, 'issuing', { action_type: 'private_cert_configuration_action_revoke_ca_certificate' });
      const rootCrl = await client.send('secrets.configuration.crl', { instanceGuid, name: 'root' });
      expect(opensslVerify(workDir, { root: rootPem, leaf: intermediate.data?.certificate ?? '', crl: rootCrl.crl, atMs: clock.nowMs() }).output).toMatch(/certificate revoked/);
      await failure(issue(instanceGuid, { name: 'after-revoke', certificate_template: 'svc', common_name: 'b.svc.internal' }), 'CONFLICT');
    });

    it("issues for the caller's CSR without a private key, and a new version re-issues with a new serial", async () => {
      const instanceGuid = await newInstance();
      const rootPem = await rootAndTemplate(instanceGuid);
      const keys = await generateKeyPair({ keyType: 'ec', keyBits: 256 });
      const csr = (await createCsr(subjectName({ common_name: 'csr.example.com' }), keys, { keyType: 'ec', keyBits: 256 })).toString('pem');
      const secret = (await issue(instanceGuid, { name: 'csr-cert', certificate_template: 'web', common_name: 'csr.example.com', csr, rotation: { auto_rotate: true, interval: 10, unit: 'day' } })) as Cert;
      expect(secret.private_key).toBeUndefined();
      expect(secret.key_algorithm).toBe('EC256');
      expect(secret.next_rotation_date).toBe(new Date(clock.nowMs() + 10 * DAY).toISOString());
      clock.advance(DAY);
      const version = await client.send('secrets.version.create', { instanceGuid, secretId: secret.id, version: {} }, as);
      const [first, second] = [new X509Certificate(secret.certificate), new X509Certificate((version as { certificate: string }).certificate)];
      expect(second.serialNumber).not.toBe(first.serialNumber);
      expect(second.publicKey.export({ format: 'der', type: 'spki' })).toEqual(first.publicKey.export({ format: 'der', type: 'spki' }));
      expect(second.verify(new X509Certificate(rootPem).publicKey)).toBe(true);
    });

    it('refuses what the template does not allow: 400 naming the field and the reason', async () => {
      const instanceGuid = await newInstance();
      await rootAndTemplate(instanceGuid);
      const base = { name: 'bad', certificate_template: 'web', common_name: 'ok.example.com' };
      const domain = await failure(issue(instanceGuid, { ...base, common_name: 'evil.example.org' }), 'VALIDATION_FAILED', 'common_name');
      expect(domain.fields?.[0]?.message).toMatch(/not allowed by the certificate template/);
      await failure(issue(instanceGuid, { ...base, alt_names: ['x.example.net'] }), 'VALIDATION_FAILED', 'alt_names.0');
      const ttl = await failure(issue(instanceGuid, { ...base, ttl: '721h' }), 'VALIDATION_FAILED', 'ttl');
      expect(ttl.fields?.[0]?.message).toMatch(/max_ttl/);
      await failure(issue(instanceGuid, { ...base, certificate_template: 'nope' }), 'VALIDATION_FAILED', 'certificate_template');
      const csr = '-----BEGIN CERTIFICATE REQUEST-----\nMIIBnot-a-csr\n-----END CERTIFICATE REQUEST-----';
      await failure(issue(instanceGuid, { ...base, csr }), 'VALIDATION_FAILED', 'csr');
      await failure(issue(instanceGuid, { ...base, uri_sans: 'https://example.com/' }), 'VALIDATION_FAILED', 'uri_sans');
      await failure(issue(instanceGuid, { ...base, ip_sans: 'not-an-ip' }), 'VALIDATION_FAILED', 'ip_sans');
      await failure(configure(instanceGuid, { config_type: 'private_cert_configuration_template', name: 'orphan', certificate_authority: 'nope' }), 'VALIDATION_FAILED', 'certificate_authority');
      await failure(client.send('secrets.configuration.get', { instanceGuid, name: 'web', configType: 'private_cert_configuration_root_ca' }, as), 'NOT_FOUND');
      await failure(client.send('secrets.configuration.delete', { instanceGuid, name: 'root' }, as), 'CONFLICT');
    });

    it('keeps every private key sealed: no PEM key in the database or the object store', async () => {
      const instanceGuid = await newInstance();
      await rootAndTemplate(instanceGuid);
      const secret = (await issue(instanceGuid, { name: 'sealed', certificate_template: 'web', common_name: 'sealed.example.com' })) as Cert;
      const keyBody = (secret.private_key ?? '').split('\n')[1] ?? 'missing';
      const rows = JSON.stringify([
        ...(await dataSource.query('SELECT * FROM private_cert_configurations')),
        ...(await dataSource.query('SELECT * FROM secrets')),
        ...(await dataSource.query('SELECT * FROM secret_versions')),
        ...(await dataSource.query('SELECT * FROM outbox_events')),
      ]);
      expect(rows).not.toContain('PRIVATE KEY');
      expect(rows).not.toContain(keyBody);
      for (const file of filesUnder(storageRoot)) {
        const text = readFileSync(file).toString('latin1');
        expect(text).not.toContain('PRIVATE KEY');
        expect(text).not.toContain(keyBody);
      }
    });

    it('stops issuing within 1 s once the instance root key is disabled, and again when it is enabled', async () => {
      const instanceGuid = await newInstance();
      await rootAndTemplate(instanceGuid);
      await issue(instanceGuid, { name: 'before', certificate_template: 'web', common_name: 'before.example.com' });
      // A CSR made beforehand: the timed request generates no key, so it measures how fast the disabled key bites.
      const keys = await generateKeyPair({ keyType: 'ec', keyBits: 256 });
      const csr = (await createCsr(subjectName({ common_name: 'after.example.com' }), keys, { keyType: 'ec', keyBits: 256 })).toString('pem');
      kms.disable(kmsKey.instanceId, kmsKey.keyId);
      const disabledAt = performance.now();
      await events.publish('events.kms.key.disabled', cloudEvent('kms.key.disabled', { accountId, instanceId: kmsKey.instanceId, keyId: kmsKey.keyId }));
      // The first request after the key's event is refused: the CA key no longer opens.
      const refused = await issue(instanceGuid, { name: 'after', certificate_template: 'web', common_name: 'after.example.com', csr }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(performance.now() - disabledAt).toBeLessThan(1000);
      expect(refused).toBeInstanceOf(DomainError);
      expect((refused as DomainError).code).toBe(FAKE_DISABLED_CODE);
      kms.enable(kmsKey.instanceId, kmsKey.keyId);
      await issue(instanceGuid, { name: 'again', certificate_template: 'web', common_name: 'again.example.com' });
    });
  });
}
