import { existsSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script (run by `npm ci` before any build), without types.
import { linkCli } from '../link.mjs';

const link = linkCli as (target: string, env: Record<string, string | undefined>) => string;

let root: string;
let bin: string;
let target: string;
const env = () => ({ PATH: `/usr/bin:${bin}`, HOME: join(root, 'home'), npm_config_global_prefix: root });

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sealbox-link-'));
  bin = join(root, 'bin');
  mkdirSync(bin);
  target = join(root, 'checkout', 'tools', 'cli', 'bin', 'sealbox.js');
  mkdirSync(join(root, 'checkout', 'tools', 'cli', 'bin'), { recursive: true });
  writeFileSync(target, '#!/usr/bin/env node\n');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('sealbox on PATH after npm ci (tools/cli/link.mjs)', () => {
  it("links sealbox into npm's global bin folder when it is on PATH, and is quiet when already done", () => {
    expect(link(target, env())).toContain('linked');
    expect(readlinkSync(join(bin, 'sealbox'))).toBe(target);
    expect(link(target, env())).toBe('');
  });

  it('keeps a link to another checkout that exists (unless SEALBOX_LINK=force), and replaces a dangling one', () => {
    const other = join(root, 'other', 'tools', 'cli', 'bin', 'sealbox.js');
    mkdirSync(join(root, 'other', 'tools', 'cli', 'bin'), { recursive: true });
    writeFileSync(other, '');
    symlinkSync(other, join(bin, 'sealbox'));
    expect(link(target, env())).toContain('kept');
    expect(readlinkSync(join(bin, 'sealbox'))).toBe(other);
    expect(link(target, { ...env(), SEALBOX_LINK: 'force' })).toContain('linked');
    expect(readlinkSync(join(bin, 'sealbox'))).toBe(target);
    rmSync(join(bin, 'sealbox'));
    symlinkSync(join(root, 'gone', 'tools', 'cli', 'bin', 'sealbox.js'), join(bin, 'sealbox'));
    expect(link(target, env())).toContain('linked');
  });

  it('never touches a sealbox that is not a link to a checkout; skips with SEALBOX_LINK=0; says so when no folder of PATH fits', () => {
    writeFileSync(join(bin, 'sealbox'), 'something else');
    expect(link(target, env())).toContain('left as it is');
    expect(lstatSync(join(bin, 'sealbox')).isSymbolicLink()).toBe(false);
    expect(link(target, { ...env(), SEALBOX_LINK: '0' })).toBe('');
    expect(link(target, { ...env(), PATH: '/usr/bin' })).toContain('npx sealbox');
    expect(existsSync(join(root, 'home', '.local', 'bin', 'sealbox'))).toBe(false);
  });
});
