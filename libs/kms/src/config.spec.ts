import { loadConfig, ManualClock } from '@sealbox/platform';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { KmsAppConfig, kmsDomainOptions, kmsOptionsFrom, KmsSettings, unsealKmsSoftHsm } from './config.js';

const settings = z.object(KmsSettings);

describe('kms settings: the schedulers interval', () => {
  it('defaults to 60 s and reaches the domain options', () => {
    const config = settings.parse({});
    expect(config.SEALBOX_KMS_SCHEDULER_INTERVAL_MS).toBe(60_000);
    expect(kmsDomainOptions(config).domain?.schedulerIntervalMs).toBe(60_000);
  });

  it('takes 0 (off) or at least 1000 ms, from text as environment variables are', () => {
    expect(settings.parse({ SEALBOX_KMS_SCHEDULER_INTERVAL_MS: '0' }).SEALBOX_KMS_SCHEDULER_INTERVAL_MS).toBe(0);
    expect(kmsDomainOptions(settings.parse({ SEALBOX_KMS_SCHEDULER_INTERVAL_MS: '1000' })).domain?.schedulerIntervalMs).toBe(1000);
    for (const value of ['999', '-1', '1.5', 'soon', String(86_400_001)]) {
      expect(settings.safeParse({ SEALBOX_KMS_SCHEDULER_INTERVAL_MS: value }).success, value).toBe(false);
    }
  });
});

describe('kms app: the PKCS#11 PIN from a file', () => {
  const base = { SEALBOX_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/kms' };
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const pinFile = (content: string, mode: number): string => {
    const dir = mkdtempSync(join(tmpdir(), 'sealbox-pin-'));
    dirs.push(dir);
    const path = join(dir, 'pin');
    writeFileSync(path, content, { mode });
    return path;
  };

  it('reads SEALBOX_PKCS11_PIN_FILE (0600, one trailing newline dropped) into the HSM config', () => {
    const config = loadConfig(KmsAppConfig, { ...base, SEALBOX_PKCS11_PIN_FILE: pinFile('987654\n', 0o600) });
    const hsm = kmsOptionsFrom(config).hsm;
    expect(hsm.backend === 'pkcs11' ? hsm.pin : undefined).toBe('987654');
  });

  it('refuses a PIN file others may read, naming the variable and not the PIN', () => {
    const config = loadConfig(KmsAppConfig, { ...base, SEALBOX_PKCS11_PIN_FILE: pinFile('987654', 0o644) });
    let message = '';
    try {
      kmsOptionsFrom(config);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('SEALBOX_PKCS11_PIN_FILE');
    expect(message).toContain('chmod 600');
    expect(message).not.toContain('987654');
  });

  it('needs the PIN or its file, not both', () => {
    expect(() => loadConfig(KmsAppConfig, base)).toThrow('SEALBOX_PKCS11_PIN: is required');
    expect(() => loadConfig(KmsAppConfig, { ...base, SEALBOX_PKCS11_PIN: '1234', SEALBOX_PKCS11_PIN_FILE: '/x' })).toThrow('not both');
  });
});

describe('kms app: the soft HSM sealed by a passphrase file', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('initialises the seal on the first start, unseals with the same passphrase later, refuses another', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealbox-kms-soft-'));
    dirs.push(dir);
    const passphraseFile = join(dir, 'passphrase');
    writeFileSync(passphraseFile, 'a kms passphrase long enough\n', { mode: 0o600 });
    const env = {
      SEALBOX_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/kms',
      SEALBOX_HSM_BACKEND: 'soft',
      SEALBOX_SOFT_HSM_DIRECTORY: join(dir, 'hsm'),
      SEALBOX_UNSEAL_PASSPHRASE_FILE: passphraseFile,
    };
    expect(() => loadConfig(KmsAppConfig, { ...env, SEALBOX_UNSEAL_PASSPHRASE_FILE: '' })).toThrow('SEALBOX_UNSEAL_PASSPHRASE_FILE: is required');
    const config = loadConfig(KmsAppConfig, env);
    const clock = new ManualClock();
    const first = await unsealKmsSoftHsm(config, clock);
    if (!first) throw new Error('no protector');
    const options = kmsOptionsFrom(config, first);
    expect(options.hsm).toEqual({ backend: 'soft', directory: join(dir, 'hsm') });
    const wrapped = first.wrap(Buffer.alloc(32, 1), 'soft-hsm/master-key');

    const again = await unsealKmsSoftHsm(config, clock);
    expect(again?.unwrap(wrapped, 'soft-hsm/master-key').equals(Buffer.alloc(32, 1))).toBe(true);

    writeFileSync(passphraseFile, 'another passphrase entirely\n', { mode: 0o600 });
    await expect(unsealKmsSoftHsm(config, clock)).rejects.toMatchObject({ code: 'UNSEAL_FAILED' });
    expect(() => kmsOptionsFrom(config)).toThrow('needs its unsealed seal');
  }, 30_000);
});
