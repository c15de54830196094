import { ConfigError, loadConfig, SystemClock } from '@sealbox/platform';
import { FakeSealToken } from '@sealbox/platform/testing';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IAM_SEALED_MASTER_KEY_FILE, IamAppConfig, iamOptionsFrom, unsealIamSeal } from './config.js';
import { MasterKey, tokenProviders } from './tokens/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sealbox-iam-seal-'));
  dirs.push(dir);
  return dir;
}

/** scrypt 2^14 instead of 2^17 for new passphrase seals: the test is about the rules, not the cost. */
const FAST = { scryptLogN: 14 };
const base = { SEALBOX_DATABASE_URL: 'postgres://localhost/iam' };

/** The MasterKey the iam module would get from these options (its provider's factory). */
async function masterKeyOf(options: ReturnType<typeof iamOptionsFrom>): Promise<MasterKey> {
  const provider = tokenProviders.find((candidate) => typeof candidate === 'object' && 'provide' in candidate && candidate.provide === MasterKey) as {
    useFactory: (options: unknown) => Promise<MasterKey>;
  };
  return provider.useFactory(options.iam);
}

describe('distributed iam: the master key follows the seal rules', () => {
  it('refuses a clear master key file with SEALBOX_ENV=production, and a seal directory without an unseal secret', () => {
    expect(() => loadConfig(IamAppConfig, { ...base, SEALBOX_ENV: 'production', SEALBOX_IAM_MASTER_KEY_FILE: '/tmp/key' })).toThrow(ConfigError);
    expect(() => loadConfig(IamAppConfig, { ...base, SEALBOX_ENV: 'production', SEALBOX_IAM_MASTER_KEY_FILE: '/tmp/key' })).toThrow('SEALBOX_IAM_SEAL_DIRECTORY');
    expect(() => loadConfig(IamAppConfig, { ...base, SEALBOX_IAM_SEAL_DIRECTORY: '/tmp/seal' })).toThrow('needs an unseal secret');
    expect(() => loadConfig(IamAppConfig, base)).toThrow('SEALBOX_IAM_MASTER_KEY_FILE');
    // Development keeps the clear file (no seal to open).
    const development = loadConfig(IamAppConfig, { ...base, SEALBOX_IAM_MASTER_KEY_FILE: '/tmp/key' });
    expect(iamOptionsFrom(development).iam.sealedMasterKey).toBeUndefined();
  });

  it('with a passphrase file: the clear key of an older deployment is wrapped then deleted, a restart opens it, a copy without the passphrase does not', async () => {
    const directory = join(tempDir(), 'iam-seal');
    const secrets = tempDir();
    const passphraseFile = join(secrets, 'passphrase');
    writeFileSync(passphraseFile, `iam seal passphrase ${randomBytes(4).toString('hex')}\n`, { mode: 0o600 });
    const legacy = join(secrets, 'master.key');
    const legacyKey = randomBytes(32);
    writeFileSync(legacy, legacyKey, { mode: 0o600 });
    const env = { ...base, SEALBOX_ENV: 'production', SEALBOX_IAM_SEAL_DIRECTORY: directory, SEALBOX_UNSEAL_PASSPHRASE_FILE: passphraseFile, SEALBOX_IAM_MASTER_KEY_FILE: legacy };
    const config = loadConfig(IamAppConfig, env);
    expect(() => iamOptionsFrom(config)).toThrow('unsealIamSeal');

    const protector = await unsealIamSeal(config, new SystemClock(), undefined, FAST);
    const first = await masterKeyOf(iamOptionsFrom(config, protector));
    const sealed = await first.seal(Buffer.from('signing key'), Buffer.from('aad'));
    expect(existsSync(legacy)).toBe(false);
    expect(readdirSync(directory).sort()).toEqual([IAM_SEALED_MASTER_KEY_FILE, 'seal.json']);
    for (const name of readdirSync(directory)) expect(readFileSync(join(directory, name)).includes(legacyKey)).toBe(false);

    const restarted = await masterKeyOf(iamOptionsFrom(config, await unsealIamSeal(config, new SystemClock(), undefined, FAST)));
    expect((await restarted.open(sealed, Buffer.from('aad'))).toString()).toBe('signing key');

    const copy = join(tempDir(), 'copy');
    cpSync(directory, copy, { recursive: true });
    const otherPassphrase = join(secrets, 'other');
    writeFileSync(otherPassphrase, 'not the iam seal passphrase\n', { mode: 0o600 });
    const onCopy = loadConfig(IamAppConfig, { ...env, SEALBOX_IAM_SEAL_DIRECTORY: copy, SEALBOX_UNSEAL_PASSPHRASE_FILE: otherPassphrase });
    await expect(unsealIamSeal(onCopy, new SystemClock(), undefined, FAST)).rejects.toMatchObject({ code: 'UNSEAL_FAILED' });
  }, 30_000);

  it('with a PKCS#11 token: the first start seals with the token, restarts unseal from it, another token does not', async () => {
    const directory = join(tempDir(), 'iam-seal');
    const env = { ...base, SEALBOX_ENV: 'production', SEALBOX_IAM_SEAL_DIRECTORY: directory, SEALBOX_SEAL_PKCS11_TOKEN_LABEL: 'iam', SEALBOX_SEAL_PKCS11_PIN_FILE: '/unused' };
    const config = loadConfig(IamAppConfig, env);
    const token = new FakeSealToken('iam');
    const protector = await unsealIamSeal(config, new SystemClock(), { token, keyLabel: 'iam-seal' });
    const key = await masterKeyOf(iamOptionsFrom(config, protector));
    const sealed = await key.seal(Buffer.from('signing key'), Buffer.from('aad'));
    expect(JSON.parse(readFileSync(join(directory, 'seal.json'), 'utf8'))).toMatchObject({ type: 'pkcs11' });

    const again = await masterKeyOf(iamOptionsFrom(config, await unsealIamSeal(config, new SystemClock(), { token, keyLabel: 'iam-seal' })));
    expect((await again.open(sealed, Buffer.from('aad'))).toString()).toBe('signing key');
    await expect(unsealIamSeal(config, new SystemClock(), { token: new FakeSealToken('iam'), keyLabel: 'iam-seal' })).rejects.toMatchObject({ code: 'SEAL_TOKEN_KEY_NOT_FOUND' });
    await expect(unsealIamSeal(config, new SystemClock(), undefined)).rejects.toMatchObject({ code: 'SEAL_TOKEN_NOT_CONFIGURED' });
  });
});
