// What `npm test` needs on the machine before the medium and e2e tiers: SoftHSM2, a nats-server
// binary, curl and jq (the README's Quick start, run by the e2e tier), Chromium and its WebDriver (the
// browser tests of the e2e tier), PostgreSQL on 127.0.0.1:5432 and NATS with JetStream on 127.0.0.1:4222. Missing packages are
// installed (apt-get, as root, unless SEALBOX_TEST_NO_INSTALL=1), a PostgreSQL cluster that is down is
// started, and so is NATS; anything that cannot be done stops the run at once with one line naming
// what is missing and the command that installs it. Dependency-free: it runs before anything is built.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export const POSTGRES_PORT = 5432;
export const NATS_PORT = 4222;

/** The Debian packages that provide each command. */
export const PACKAGES = { 'softhsm2-util': 'softhsm2', 'nats-server': 'nats-server', curl: 'curl', jq: 'jq', chromium: 'chromium', chromedriver: 'chromium-driver' };

/** The machine as the setup sees and changes it (the real one below; fakes in tests). */
export const machine = {
  findCommand(name, env = process.env) {
    for (const dir of [...(env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/usr/local/bin']) {
      if (dir && existsSync(join(dir, name))) return join(dir, name);
    }
    return undefined;
  },
  portOpen(port) {
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.setTimeout(1_000);
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('timeout', () => (socket.destroy(), resolve(false)));
      socket.once('error', () => resolve(false));
    });
  },
  isRoot: () => process.getuid?.() === 0,
  /** PostgreSQL clusters of the Debian packaging (`/etc/postgresql/<version>/<name>`). */
  postgresClusters() {
    try {
      return readdirSync('/etc/postgresql').flatMap((version) => readdirSync(join('/etc/postgresql', version)).map((name) => ({ version, name })));
    } catch {
      return [];
    }
  },
  run(command, args, env = {}) {
    execFileSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
  },
  ensureDir(path) {
    mkdirSync(path, { recursive: true });
  },
  /** Starts a long-lived server that outlives the test run (as a service would). */
  startDetached(command, args) {
    spawn(command, args, { detached: true, stdio: 'ignore' }).unref();
  },
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

async function waitForPort(probe, port, timeoutMs) {
  for (let waited = 0; waited <= timeoutMs; waited += 500) {
    if (await probe.portOpen(port)) return true;
    await probe.sleep(500);
  }
  return false;
}

/**
 * Makes the machine ready; answers `{ ok: true }` or `{ ok: false, line }` with the one line to print.
 * `log` gets a line for each thing done.
 */
export async function prepareMachine({ probe = machine, env = process.env, log = console.log } = {}) {
  const missing = Object.keys(PACKAGES).filter((command) => !probe.findCommand(command, env));
  if (missing.length) {
    const packages = missing.map((command) => PACKAGES[command]);
    const install = `apt-get update && apt-get install -y ${packages.join(' ')}`;
    if (!probe.isRoot() || !probe.findCommand('apt-get', env) || env.SEALBOX_TEST_NO_INSTALL === '1') {
      return { ok: false, line: `npm test needs ${packages.join(' and ')} (${missing.join(', ')}); install with: ${probe.isRoot() ? '' : 'sudo '}${install}` };
    }
    log(`installing ${packages.join(', ')}`);
    try {
      probe.run('apt-get', ['update', '-qq']);
      probe.run('apt-get', ['install', '-y', '-qq', ...packages], { DEBIAN_FRONTEND: 'noninteractive' });
    } catch {
      return { ok: false, line: `npm test could not install ${packages.join(' and ')}; install them with: ${install}` };
    }
  }

  if (!(await probe.portOpen(POSTGRES_PORT))) {
    const [cluster] = probe.postgresClusters();
    if (!cluster || !probe.findCommand('pg_ctlcluster', env)) {
      return { ok: false, line: `npm test needs PostgreSQL on 127.0.0.1:${POSTGRES_PORT} (trust for 127.0.0.1); none is running or installed: apt-get install -y postgresql` };
    }
    log(`starting PostgreSQL ${cluster.version}/${cluster.name}`);
    try {
      probe.run('pg_ctlcluster', ['--skip-systemctl-redirect', cluster.version, cluster.name, 'start']);
    } catch {
      // Reported below if it does not answer.
    }
    if (!(await waitForPort(probe, POSTGRES_PORT, 30_000))) {
      return { ok: false, line: `npm test needs PostgreSQL on 127.0.0.1:${POSTGRES_PORT}; it did not start: pg_ctlcluster ${cluster.version} ${cluster.name} start` };
    }
  }

  if (!(await probe.portOpen(NATS_PORT))) {
    const server = probe.findCommand('nats-server', env);
    const store = probe.isRoot() ? '/var/lib/nats-server' : join(tmpdir(), 'sealbox-nats');
    log(`starting NATS with JetStream on 127.0.0.1:${NATS_PORT} (store ${store})`);
    probe.ensureDir(store);
    probe.startDetached(server, ['-a', '127.0.0.1', '-p', String(NATS_PORT), '-js', '-sd', store]);
    if (!(await waitForPort(probe, NATS_PORT, 30_000))) {
      return { ok: false, line: `npm test needs NATS with JetStream on 127.0.0.1:${NATS_PORT}; it did not start: nats-server -a 127.0.0.1 -p ${NATS_PORT} -js` };
    }
  }
  return { ok: true };
}
