import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script (it runs before anything is built), without types.
import { NATS_PORT, POSTGRES_PORT, prepareMachine } from './test-setup.mjs';

interface Outcome {
  readonly ok: boolean;
  readonly line?: string;
}

/** A machine to set up: which commands it has, which ports answer, and what was done to it. */
function fakeMachine(options: { commands?: string[]; open?: number[]; root?: boolean; clusters?: { version: string; name: string }[]; startsServers?: boolean } = {}) {
  const commands = new Set(options.commands ?? ['softhsm2-util', 'nats-server', 'curl', 'jq', 'chromium', 'chromedriver', 'apt-get', 'pg_ctlcluster']);
  const open = new Set(options.open ?? [POSTGRES_PORT, NATS_PORT]);
  const done: string[] = [];
  const probe = {
    findCommand: (name: string) => (commands.has(name) ? `/usr/bin/${name}` : undefined),
    portOpen: async (port: number) => open.has(port),
    isRoot: () => options.root ?? true,
    postgresClusters: () => options.clusters ?? [{ version: '15', name: 'main' }],
    run: (command: string, args: string[]) => {
      done.push([command, ...args].join(' '));
      if (command === 'apt-get' && args[0] === 'install') for (const name of ['softhsm2-util', 'nats-server', 'curl', 'jq', 'chromium', 'chromedriver']) commands.add(name);
      if (command === 'pg_ctlcluster' && options.startsServers !== false) open.add(POSTGRES_PORT);
    },
    ensureDir: (path: string) => done.push(`mkdir ${path}`),
    startDetached: (command: string, args: string[]) => {
      done.push([command, ...args].join(' '));
      if (options.startsServers !== false) open.add(NATS_PORT);
    },
    sleep: async () => undefined,
  };
  const lines: string[] = [];
  const prepare = (env: Record<string, string> = {}) => prepareMachine({ probe, env, log: (line: string) => lines.push(line) }) as Promise<Outcome>;
  return { prepare, done, lines };
}

describe('npm test on a fresh machine (tools/test-setup.mjs)', () => {
  it('does nothing on a ready machine', async () => {
    const machine = fakeMachine();
    expect(await machine.prepare()).toEqual({ ok: true });
    expect(machine.done).toEqual([]);
  });

  it('installs SoftHSM2 and nats-server as root with apt-get, then starts PostgreSQL and NATS with JetStream', async () => {
    const machine = fakeMachine({ commands: ['apt-get', 'pg_ctlcluster', 'curl', 'jq', 'chromium', 'chromedriver'], open: [] });
    expect(await machine.prepare()).toEqual({ ok: true });
    expect(machine.done).toEqual([
      'apt-get update -qq',
      'apt-get install -y -qq softhsm2 nats-server',
      'pg_ctlcluster --skip-systemctl-redirect 15 main start',
      'mkdir /var/lib/nats-server',
      `/usr/bin/nats-server -a 127.0.0.1 -p ${NATS_PORT} -js -sd /var/lib/nats-server`,
    ]);
    expect(machine.lines).toEqual(['installing softhsm2, nats-server', 'starting PostgreSQL 15/main', expect.stringContaining('starting NATS with JetStream')]);
  });

  it('stops at once with one line naming what is missing and the command that installs it when it may not install', async () => {
    const user = fakeMachine({ commands: ['apt-get', 'nats-server', 'curl', 'jq', 'chromium', 'chromedriver'], root: false });
    const outcome = await user.prepare();
    expect(outcome).toEqual({ ok: false, line: 'npm test needs softhsm2 (softhsm2-util); install with: sudo apt-get update && apt-get install -y softhsm2' });
    expect(user.done).toEqual([]);
    const refused = await fakeMachine({ commands: ['apt-get', 'curl', 'jq', 'chromium', 'chromedriver'] }).prepare({ SEALBOX_TEST_NO_INSTALL: '1' });
    expect(refused.line).toBe('npm test needs softhsm2 and nats-server (softhsm2-util, nats-server); install with: apt-get update && apt-get install -y softhsm2 nats-server');
    // The README's Quick start (run by the e2e tier) calls curl and jq.
    const noJq = await fakeMachine({ commands: ['softhsm2-util', 'nats-server', 'curl', 'chromium', 'chromedriver', 'apt-get'], root: false }).prepare();
    expect(noJq.line).toBe('npm test needs jq (jq); install with: sudo apt-get update && apt-get install -y jq');
  });

  it('names PostgreSQL when none is running or installed, and a server that does not come up', async () => {
    const none = await fakeMachine({ open: [NATS_PORT], clusters: [] }).prepare();
    expect(none.ok).toBe(false);
    expect(none.line).toContain('apt-get install -y postgresql');
    const stuck = await fakeMachine({ open: [POSTGRES_PORT], startsServers: false }).prepare();
    expect(stuck).toEqual({ ok: false, line: expect.stringMatching(/^npm test needs NATS with JetStream on 127\.0\.0\.1:4222; it did not start: nats-server/) });
  });
});
