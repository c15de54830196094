import { ServiceNames } from '@sealbox/contracts';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { stackInfo } from './harness/context.js';
import { connectNats } from './harness/infra.js';

const stack = stackInfo();
const run = promisify(execFile);
const tlsOf = (app: 'crypto' | 'storage') => stack.appEnv[app];

/** Whether `app`'s credentials may subscribe to `subject`: NATS reports a permission violation asynchronously. */
async function maySubscribe(app: 'crypto' | 'storage', subject: string): Promise<boolean> {
  const env = tlsOf(app);
  const nc = await connectNats({
    servers: stack.nats.servers,
    user: env['SEALBOX_NATS_USER'] ?? '',
    pass: env['SEALBOX_NATS_PASSWORD'] ?? '',
    tls: { caFile: env['SEALBOX_NATS_TLS_CA_FILE'] ?? '', certFile: env['SEALBOX_NATS_TLS_CERT_FILE'] ?? '', keyFile: env['SEALBOX_NATS_TLS_KEY_FILE'] ?? '' },
  });
  try {
    const denied = new Promise<boolean>((resolve) => {
      void (async () => {
        for await (const status of nc.status()) {
          if (status.type === 'error' && /permissions violation/i.test(String(status.error))) resolve(true);
        }
      })();
    });
    nc.subscribe(subject);
    await nc.flush();
    return !(await Promise.race([denied, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 500))]));
  } finally {
    await nc.close();
  }
}

describe('service traffic on NATS: TLS with client certificates, per-service users and subjects', () => {
  it('refuses a client without a certificate signed by the run CA, even with a valid user and password', async () => {
    const { caFile } = stack.nats.tls ?? { caFile: '' };
    expect(caFile).not.toBe('');
    const error = await connectNats({ servers: stack.nats.servers, user: stack.nats.user ?? '', pass: stack.nats.pass ?? '', tls: { caFile, certFile: '', keyFile: '' } }).then(
      (nc) => nc.close().then(() => undefined),
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(Error);
    // And nothing gets in without TLS at all.
    const plain = await connectNats({ servers: stack.nats.servers.map((url) => url.replace(/^tls:/, 'nats:')), user: stack.nats.user ?? '', pass: stack.nats.pass ?? '' }).then(
      (nc) => nc.close().then(() => undefined),
      (failure: unknown) => failure,
    );
    expect(plain).toBeInstanceOf(Error);
  });

  it("lets a service read only its own replies and subjects: storage may not read crypto's replies or requests", async () => {
    expect(await maySubscribe('storage', '_INBOX.storage.x.1')).toBe(true);
    expect(await maySubscribe('storage', '_INBOX.crypto.x.1')).toBe(false);
    expect(await maySubscribe('storage', '_INBOX.secrets.>')).toBe(false);
    expect(await maySubscribe('storage', 'crypto.envelope.open')).toBe(false);
    expect(await maySubscribe('crypto', 'crypto.envelope.open')).toBe(true);
  });

  it("answers every service's container healthcheck (docker/healthcheck.mjs) with the service's own credentials", async () => {
    for (const service of ServiceNames) {
      const result = await run(process.execPath, [join(stack.root, 'docker', 'healthcheck.mjs')], {
        cwd: stack.root,
        env: { ...stack.appEnv[service], APP: service, PATH: process.env['PATH'] ?? '' },
        timeout: 15_000,
      }).then(
        () => 'healthy',
        (error: { stderr?: string }) => `unhealthy: ${error.stderr ?? ''}`,
      );
      expect(result, service).toBe('healthy');
    }
  });
});
