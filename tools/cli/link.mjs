#!/usr/bin/env node
// Puts a `sealbox` command on PATH, as `npm link` would, when `npm ci` / `npm install` runs the root
// `prepare` script: a symlink to this checkout's tools/cli/bin/sealbox.js in npm's global bin folder
// (or ~/.local/bin), provided that folder is on PATH and writable. A `sealbox` that is not a link to a
// sealbox checkout is never touched; a link to another checkout that still exists is kept (one line
// says so). `npx sealbox` works in any case. SEALBOX_LINK=0 skips this; SEALBOX_LINK=force replaces a
// link to another checkout.
import { accessSync, constants, existsSync, lstatSync, readlinkSync, realpathSync, symlinkSync, unlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = 'tools/cli/bin/sealbox.js';

function writable(dir) {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Links `sealbox` to `target`; answers what it did, one line for the user (or '' when there is
 * nothing to say). `env` gives PATH, HOME, npm's global prefix and SEALBOX_LINK.
 */
export function linkCli(target, env) {
  if (env.SEALBOX_LINK === '0') return '';
  const onPath = (env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => resolve(dir));
  const prefix = env.npm_config_global_prefix ?? env.npm_config_prefix;
  const candidates = [...(prefix ? [join(prefix, 'bin')] : []), join(env.HOME ?? homedir(), '.local', 'bin')].map((dir) => resolve(dir));
  const dir = candidates.find((candidate) => onPath.includes(candidate) && existsSync(candidate) && writable(candidate));
  if (!dir) return `sealbox: no writable folder of PATH to link the command into (${candidates.join(', ')}); use npx sealbox`;
  const link = join(dir, 'sealbox');
  let current;
  try {
    current = lstatSync(link);
  } catch {
    current = undefined;
  }
  if (current) {
    if (!current.isSymbolicLink()) return `sealbox: ${link} exists and is not a link to a sealbox checkout; left as it is (use npx sealbox)`;
    const pointsAt = resolve(dirname(link), readlinkSync(link));
    if (pointsAt === target) return '';
    const another = pointsAt.endsWith(BIN) && existsSync(pointsAt);
    if (another && env.SEALBOX_LINK !== 'force') return `sealbox: ${link} runs the checkout at ${pointsAt.slice(0, -BIN.length - 1)}; kept (SEALBOX_LINK=force npm run link:cli to use this one, or npx sealbox)`;
    if (!pointsAt.endsWith(BIN) && existsSync(pointsAt)) return `sealbox: ${link} links to ${pointsAt}, not a sealbox checkout; left as it is (use npx sealbox)`;
    unlinkSync(link);
  }
  symlinkSync(target, link);
  return `sealbox: linked ${link} -> ${target}`;
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  try {
    const said = linkCli(join(root, BIN), process.env);
    if (said) console.log(said);
  } catch (error) {
    // Never fail an install over a convenience.
    console.log(`sealbox: could not link the command (${error instanceof Error ? error.message : String(error)}); use npx sealbox`);
  }
}
