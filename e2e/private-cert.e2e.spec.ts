import { SecretsWire as W } from '@sealbox/contracts';
import type { SecretsManagerClient } from '@sealbox/sm-client';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackInfo } from './harness/context.js';
import { adminSession, createAccountOverNats, type AdminSession } from './harness/iam.js';
import { NatsCaller } from './harness/kms.js';
import { provisionSecretsInstance, smFailure, statusCode, type SecretsInstance } from './harness/secrets.js';

/**
 * private_cert on the distributed stack through the gateway with the project's SM v2 client: a root
 * CA, an intermediate signed by it, a template, a certificate issued and verified by node:crypto and
 * `openssl verify -crl_check`, revoked, and the CRL fetched from its public URL.
 */

const stack = stackInfo();
const tag = `sm-pc-${stack.runId}`;
type Cert = Extract<W.Secret, { secret_type: 'private_cert' }>;

function openssl(dir: string, files: { root: string; chain: string[]; leaf: string; crl: string }): { ok: boolean; output: string } {
  const write = (name: string, text: string) => {
    const path = join(dir, `${randomUUID()}-${name}`);
    writeFileSync(path, text);
    return path;
  };
  const args = ['verify', '-CAfile', write('root.pem', files.root), '-untrusted', write('chain.pem', files.chain.join('\n')), '-crl_check', '-CRLfile', write('ca.crl', files.crl), write('leaf.pem', files.leaf)];
  try {
    return { ok: true, output: execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe('private_cert (SM v2 client, distributed stack)', () => {
  let nats: NatsCaller;
  let admin: AdminSession;
  let instance: SecretsInstance;
  let sm: SecretsManagerClient;
  let dir: string;

  beforeAll(async () => {
    nats = await NatsCaller.open(stack);
    admin = await adminSession(stack, (await createAccountOverNats(stack, `${tag}-account`)).apikey);
    instance = await provisionSecretsInstance(stack, nats, admin, tag);
    sm = instance.sm;
    dir = mkdtempSync(join(tmpdir(), 'sealbox-e2e-pc-'));
  });

  afterAll(async () => {
    await nats?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('root → intermediate → template → certificate → revoke → CRL, through the gateway', async () => {
    const root = (await sm.createConfiguration({ config_type: 'private_cert_configuration_root_ca', name: 'e2e-root', common_name: 'E2E Root', max_ttl: '8760h' })).result;
    expect(root).toMatchObject({ config_type: 'private_cert_configuration_root_ca', status: 'configured' });
    const intermediate = (
      await sm.createConfiguration({ config_type: 'private_cert_configuration_intermediate_ca', name: 'e2e-issuing', common_name: 'E2E Issuing', max_ttl: '4380h', signing_method: 'internal', issuer: 'e2e-root' })
    ).result;
    await sm.createConfiguration({ config_type: 'private_cert_configuration_template', name: 'e2e-web', certificate_authority: 'e2e-issuing', allowed_domains: ['e2e.example'], allow_subdomains: true, max_ttl: '240h' });

    const listed = (await sm.listConfigurations({ limit: 2 })).result;
    expect(listed.total_count).toBe(3);
    expect(listed.next).toBeDefined();
    const fetched = (await sm.getConfiguration('e2e-issuing', 'private_cert_configuration_intermediate_ca')).result;
    expect(fetched.data?.certificate).toBe(intermediate.data?.certificate);
    expect(statusCode(await smFailure(sm.getConfiguration('e2e-issuing', 'private_cert_configuration_template')))).toEqual({ status: 404, code: 'NOT_FOUND' });

    const created = (await sm.createSecret({ secret_type: 'private_cert', name: `cert-${randomBytes(3).toString('hex')}`, certificate_template: 'e2e-web', common_name: 'api.e2e.example', ttl: '24h' })).result as Cert;
    const leaf = new X509Certificate(created.certificate);
    const [issuing, rootCert] = [new X509Certificate(intermediate.data?.certificate ?? ''), new X509Certificate(root.data?.certificate ?? '')];
    expect(leaf.verify(issuing.publicKey)).toBe(true);
    expect(issuing.verify(rootCert.publicKey)).toBe(true);
    expect(leaf.checkHost('api.e2e.example')).toBe('api.e2e.example');
    expect(created.ca_chain).toEqual([intermediate.data?.certificate, root.data?.certificate]);

    const bad = await smFailure(sm.createSecret({ secret_type: 'private_cert', name: 'bad-cert', certificate_template: 'e2e-web', common_name: 'api.elsewhere.example' }));
    expect(statusCode(bad)).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(bad.fields).toContain('common_name');

    const crlUrl = `${stack.gatewayUrl}/secrets-manager/${instance.guid}/api/v2/configurations/e2e-issuing/crl`;
    const before = (await (await fetch(crlUrl)).json()) as { crl: string };
    expect(openssl(dir, { root: root.data?.certificate ?? '', chain: [intermediate.data?.certificate ?? ''], leaf: created.certificate, crl: before.crl }).ok).toBe(true);

    const revoked = (await sm.createSecretAction(created.id, { action_type: 'private_cert_action_revoke_certificate' })).result;
    expect(revoked.revocation_time_seconds).toBeGreaterThan(0);
    const after = (await (await fetch(crlUrl)).json()) as { crl: string };
    const verified = openssl(dir, { root: root.data?.certificate ?? '', chain: [intermediate.data?.certificate ?? ''], leaf: created.certificate, crl: after.crl });
    expect(verified.ok).toBe(false);
    expect(verified.output).toMatch(/certificate revoked/);

    const rotated = await sm.createConfigurationAction('e2e-issuing', { action_type: 'private_cert_configuration_action_rotate_crl' }, 'private_cert_configuration_intermediate_ca');
    expect(rotated.result.action_type).toBe('private_cert_configuration_action_rotate_crl');
  });
});
