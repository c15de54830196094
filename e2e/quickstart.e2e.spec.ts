import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandalone, type RunningStandalone } from './harness/standalone.js';

/**
 * The README's Quick start, run as written: every `sh` block of its "Quick start" section, in order,
 * in one bash (`-euo pipefail`), against a freshly started standalone process (`npm start`'s app,
 * built) on a free port with a data directory of its own. Like a user's second terminal, bash runs in
 * the folder that holds `data/` and only SEALBOX_URL is set (the port is not 8080); `sealbox` on PATH
 * is this checkout's CLI, with its session in a home folder of the test's own.
 */

const root = join(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The fenced `sh` blocks between "## Quick start" and the next level-2 heading. */
function quickStartBlocks(markdown: string): string[] {
  const section = /^## Quick start\n([\s\S]*?)(?=^## )/m.exec(markdown)?.[1] ?? '';
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1] as string);
}

const blocks = quickStartBlocks(readme);
const script = blocks.join('\n');
let sealbox: RunningStandalone;
let bin = '';

beforeAll(async () => {
  const cli = join(root, 'tools', 'cli', 'bin', 'sealbox.js');
  if (!existsSync(join(root, 'tools', 'cli', 'dist', 'main.js'))) throw new Error('e2e: tools/cli/dist missing. Build first: npx tsc -b tsconfig.build.json');
  sealbox = await startStandalone('sealbox-quickstart-');
  bin = join(sealbox.dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'sealbox'), `#!/bin/sh\nexec '${process.execPath}' '${cli}' "$@"\n`);
  chmodSync(join(bin, 'sealbox'), 0o755);
}, 120_000);

afterAll(() => sealbox?.stop());

describe('README Quick start', () => {
  it('has the set-up variables, the curl calls and the CLI commands as sh blocks', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    expect(script).toContain('/identity/token');
    expect(script).toContain('/v2/resource_instances');
    expect(script).toContain('sealbox sm secret-by-name');
  });

  it('runs as written: token, Secrets Manager instance, secret, and the secret read back (curl, then the CLI)', async () => {
    const bash = spawn('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: sealbox.dir,
      env: {
        PATH: `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
        HOME: sealbox.home,
        XDG_CONFIG_HOME: join(sealbox.home, '.config'),
        SEALBOX_URL: sealbox.url,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    bash.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    bash.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(bash, 'exit')) as [number | null];
    expect(code, `the Quick start failed:\n${stderr}\n${stdout}\n(server: ${sealbox.output().slice(-2000)})`).toBe(0);

    // What the README says the reads print ("… prints X"), printed once by curl and once by the CLI.
    const promised = [...script.matchAll(/#.*\bprints (\S+)\s*$/gm)].map((match) => match[1] as string);
    expect(promised).toHaveLength(2);
    const lines = stdout.split('\n').map((line) => line.trim());
    for (const value of new Set(promised)) {
      expect(lines.filter((line) => line === value), stdout).toHaveLength(promised.filter((other) => other === value).length);
    }
    // No token or API key on the terminal.
    expect(stdout + stderr).not.toContain(sealbox.apikey);
    expect(stdout + stderr).not.toMatch(/eyJ[\w-]+\.eyJ/);
  }, 120_000);
});
