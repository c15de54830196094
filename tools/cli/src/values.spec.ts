import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliError, ExitCode } from './errors.js';
import { ValueReader } from './values.js';

const dir = mkdtempSync(join(tmpdir(), 'sealbox-values-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const usageOf = async (promise: Promise<unknown>): Promise<string> => {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(CliError);
  expect((error as CliError).exitCode).toBe(ExitCode.USAGE);
  return (error as CliError).message;
};

describe('option values: @FILE, @- and @@', () => {
  it('takes a plain value as it is, and @@text as the literal @text', async () => {
    const reader = new ValueReader(undefined);
    expect(await reader.read('plain', '--payload')).toBe('plain');
    expect(await reader.read('@@handle', '--payload')).toBe('@handle');
  });

  it("reads @FILE without its final newline (only one)", async () => {
    const file = join(dir, 'value');
    writeFileSync(file, 'line 1\nline 2\n\n');
    expect(await new ValueReader(undefined).read(`@${file}`, '--payload')).toBe('line 1\nline 2\n');
  });

  it('reads @- from standard input once per command line; a second @- or no stdin is a usage error', async () => {
    const reader = new ValueReader(async () => 'from stdin\r\n');
    expect(await reader.read('@-', '--payload')).toBe('from stdin');
    expect(await usageOf(reader.read('@-', '--password'))).toContain('already read for --payload');
    expect(await usageOf(new ValueReader(undefined).read('@-', '--payload'))).toContain('no standard input');
  });

  it('names the option and the file that cannot be read, and how to write a literal @', async () => {
    const message = await usageOf(new ValueReader(undefined).read(`@${join(dir, 'missing')}`, '--data'));
    expect(message).toContain('--data: cannot read');
    expect(message).toContain('ENOENT');
    expect(message).toContain('@@');
  });
});
