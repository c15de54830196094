#!/usr/bin/env node
// Container healthcheck of a Sealbox app image (see compose.yaml); exit 0 = healthy.
//   gateway:  GET /healthz on the gateway's own port.
//   services: ask `<app>.health` over NATS with the service's own credentials, the same envelope
//             Nest's NATS client sends, and accept only status "ok" from THIS container's replica
//             (the queue group may hand the request to another replica when scaled: ask again).
// It reads the app's own SEALBOX_* variables, which the container already has.
import { connect } from '@nats-io/transport-node';
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
  const nc = await connect({
    servers: (env.SEALBOX_NATS_URL ?? 'nats://127.0.0.1:4222').split(',').map((server) => server.trim()),
    ...(env.SEALBOX_NATS_USER ? { user: env.SEALBOX_NATS_USER } : {}),
    ...(env.SEALBOX_NATS_PASSWORD ? { pass: env.SEALBOX_NATS_PASSWORD } : {}),
    name: `sealbox-${app}-healthcheck`,
    timeout: 2000,
    reconnect: false,
  }).catch((error) => fail(`NATS: ${error.message}`));
  const me = `${hostname()}:`;
  const until = Date.now() + DEADLINE_MS;
  try {
    for (let attempt = 1; Date.now() < until; attempt++) {
      const packet = JSON.stringify({ pattern: subject, data: {}, id: `healthcheck-${attempt}` });
      const reply = await nc.request(subject, packet, { timeout: Math.max(100, until - Date.now()) });
      const { response, err } = reply.json();
      if (err) fail(`${subject} answered an error: ${JSON.stringify(err)}`);
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
