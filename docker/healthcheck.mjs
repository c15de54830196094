#!/usr/bin/env node
// Container healthcheck of a Sealbox app image (see compose.yaml); exit 0 = healthy.
//   gateway:  GET /healthz on the gateway's own port.
//   services: ask `<app>.health` over NATS with the service's own credentials, TLS files and reply
//             prefix, in the services' own protocol, and accept only status "ok" from THIS container's
//             replica (the queue group may hand the request to another replica when scaled: ask again).
// It reads the app's own SEALBOX_* variables, which the container already has.
import { connect } from '@nats-io/transport-node';
import { natsConnectionOptions, requestOverNats } from '@sealbox/platform';
import { hostname } from 'node:os';

const env = process.env;
const app = env.APP;
const DEADLINE_MS = 4000;

function fail(reason) {
  process.stderr.write(`unhealthy: ${reason}\n`);
  process.exit(1);
}

async function gateway() {
  const tls = Boolean(env.SEALBOX_TLS_CERT_FILE);
  const { request } = await import(tls ? 'node:https' : 'node:http');
  const port = Number(env.SEALBOX_PORT ?? 8080);
  request({ host: '127.0.0.1', port, path: '/healthz', timeout: DEADLINE_MS, rejectUnauthorized: false }, (res) => {
    res.resume();
    if (res.statusCode === 200) process.exit(0);
    fail(`/healthz answered ${res.statusCode}`);
  })
    .on('timeout', () => fail('/healthz did not answer'))
    .on('error', (error) => fail(error.message))
    .end();
}

async function service() {
  const subject = `${app}.health`;
  const tls = {
    ...(env.SEALBOX_NATS_TLS_CA_FILE ? { caFile: env.SEALBOX_NATS_TLS_CA_FILE } : {}),
    ...(env.SEALBOX_NATS_TLS_CERT_FILE ? { certFile: env.SEALBOX_NATS_TLS_CERT_FILE, keyFile: env.SEALBOX_NATS_TLS_KEY_FILE } : {}),
  };
  const config = {
    servers: (env.SEALBOX_NATS_URL ?? 'nats://127.0.0.1:4222').split(',').map((server) => server.trim()),
    ...(env.SEALBOX_NATS_USER ? { user: env.SEALBOX_NATS_USER } : {}),
    ...(env.SEALBOX_NATS_PASSWORD ? { pass: env.SEALBOX_NATS_PASSWORD } : {}),
    ...(Object.keys(tls).length ? { tls } : {}),
    inboxPrefix: `_INBOX.${app}`,
  };
  const nc = await connect({ ...natsConnectionOptions(config, `sealbox-${app}-healthcheck`), timeout: 2000, reconnect: false }).catch((error) =>
    fail(`NATS: ${error.message}`),
  );
  const me = `${hostname()}:`;
  const until = Date.now() + DEADLINE_MS;
  try {
    while (Date.now() < until) {
      const response = await requestOverNats(nc, subject, {}, Math.max(100, until - Date.now())).catch((error) =>
        fail(`${subject} answered an error: ${error.code ?? ''} ${error.message}`),
      );
      if (!response?.replica?.startsWith(me)) continue;
      if (response.status === 'ok') return;
      const failing = Object.entries(response.checks ?? {}).filter(([, check]) => !check.ok);
      fail(`${response.status}: ${failing.map(([name, check]) => `${name}: ${check.detail ?? 'failed'}`).join('; ')}`);
    }
    fail(`only other replicas answered ${subject}`);
  } catch (error) {
    fail(`${subject}: ${error.message}`);
  } finally {
    await nc.close();
  }
}

if (!app) fail('APP is not set (the image sets it from its build arg)');
await (app === 'gateway' ? gateway() : service());
