import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForReady } from './http.js';
import { freePort } from './infra.js';

/**
 * `npm start`'s app (apps/standalone, built) as a user runs it: its own process, started in a
 * folder of its own so its data lands in `<dir>/data`, on a free port of 127.0.0.1. The distributed
 * stack of the tier is not involved.
 */
export interface RunningStandalone {
  /** The folder it was started in (`data/` is inside), for a user's "second terminal". */
  readonly dir: string;
  /** A home folder of its own (CLI sessions go there). */
  readonly home: string;
  readonly url: string;
  /** The administrator's API key the first start wrote to `data/admin-apikey`. */
  readonly apikey: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

const ROOT = join(import.meta.dirname, '..', '..');

export async function startStandalone(prefix: string): Promise<RunningStandalone> {
  const main = join(ROOT, 'apps', 'standalone', 'dist', 'main.js');
  if (!existsSync(main)) throw new Error(`e2e: ${main} missing. Build first: npx tsc -b tsconfig.build.json`);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const home = join(dir, 'home');
  mkdirSync(home);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let printed = '';
  const child: ChildProcess = spawn(process.execPath, [main], {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, SEALBOX_PORT: String(port), SEALBOX_LOG_LEVEL: 'warn', SEALBOX_LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForReady(url, {
      timeoutMs: 90_000,
      failFast: () => (child.exitCode !== null ? `the standalone process exited (${child.exitCode}): ${printed.slice(-2000)}` : undefined),
    });
    const keyFile = join(dir, 'data', 'admin-apikey');
    for (let waited = 0; !existsSync(keyFile); waited += 100) {
      if (waited > 10_000) throw new Error(`e2e: ${keyFile} was not written`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { dir, home, url, apikey: readFileSync(keyFile, 'utf8').trim(), output: () => printed, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
