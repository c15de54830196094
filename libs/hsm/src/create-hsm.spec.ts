import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HsmConfigSchema } from './config.js';
import { createHsm } from './create-hsm.js';
import { Pkcs11Hsm } from './pkcs11/pkcs11-hsm.js';
import { SoftHsm } from './soft/soft-hsm.js';

describe('HsmConfigSchema', () => {
  it('applies the PKCS#11 defaults (SoftHSM2 library, 4 sessions, 32 unwrapped keys per session kept at most 30 s)', () => {
    expect(HsmConfigSchema.parse({ backend: 'pkcs11', tokenLabel: 'sealbox', pin: '1234' })).toEqual({
      backend: 'pkcs11',
      library: '/usr/lib/softhsm/libsofthsm2.so',
      tokenLabel: 'sealbox',
      pin: '1234',
      maxSessions: 4,
      unwrappedKeysPerSession: 32,
      unwrappedKeyMaxAgeMs: 30_000,
    });
  });

  it('names the field that is wrong', () => {
    const cases: Array<[unknown, string]> = [
      [{ backend: 'pkcs11', tokenLabel: 'sealbox' }, 'pin'],
      [{ backend: 'pkcs11', tokenLabel: 'sealbox', pin: '12' }, 'pin'],
      [{ backend: 'pkcs11', tokenLabel: 'x'.repeat(33), pin: '1234' }, 'tokenLabel'],
      [{ backend: 'pkcs11', tokenLabel: 'sealbox', pin: '1234', maxSessions: 0 }, 'maxSessions'],
      [{ backend: 'pkcs11', tokenLabel: 'sealbox', pin: '1234', unwrappedKeysPerSession: -1 }, 'unwrappedKeysPerSession'],
      [{ backend: 'pkcs11', tokenLabel: 'sealbox', pin: '1234', unwrappedKeyMaxAgeMs: 0 }, 'unwrappedKeyMaxAgeMs'],
      [{ backend: 'soft', directory: '' }, 'directory'],
      [{ backend: 'cloud-hsm' }, 'backend'],
    ];
    for (const [config, field] of cases) {
      const result = HsmConfigSchema.safeParse(config);
      expect(result.success, JSON.stringify(config)).toBe(false);
      expect(result.error?.issues.map((issue) => issue.path.join('.'))).toContain(field);
    }
  });

  it('never echoes the PIN in its errors', () => {
    const result = HsmConfigSchema.safeParse({ backend: 'pkcs11', tokenLabel: 7, pin: 'secret-pin-value' });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).not.toContain('secret-pin-value');
  });
});

describe('createHsm', () => {
  it('builds the backend the configuration names, without I/O until it is used', async () => {
    const directory = join(tmpdir(), `sealbox-create-hsm-${randomUUID()}`);
    const soft = createHsm({ backend: 'soft', directory });
    expect(soft).toBeInstanceOf(SoftHsm);
    expect(soft.backend).toBe('soft');
    expect(existsSync(directory)).toBe(false);
    await soft.close();

    const pkcs11 = createHsm({ backend: 'pkcs11', library: '/nonexistent/libpkcs11.so', tokenLabel: 'sealbox', pin: '1234' });
    expect(pkcs11).toBeInstanceOf(Pkcs11Hsm);
    expect(pkcs11.backend).toBe('pkcs11');
    await pkcs11.close();
  });

  it('refuses an invalid configuration', () => {
    expect(() => createHsm({ backend: 'pkcs11', tokenLabel: '', pin: '1234' })).toThrow(/tokenLabel/);
  });
});
