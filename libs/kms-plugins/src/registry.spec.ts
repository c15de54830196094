import { describe, expect, it } from 'vitest';
import { HpcsProvider } from './hpcs.js';
import { KeyProtectProvider } from './key-protect.js';
import { LocalHsmProvider } from './local-hsm.js';
import { createProvider, KmsProviderConfig, providerKinds, ProviderRegistry } from './registry.js';
import { activeInstance, FakeHsm } from './testing/index.js';

describe('KmsProviderConfig', () => {
  it('fills each branch with its defaults', () => {
    expect(KmsProviderConfig.parse({ kind: 'key-protect' })).toEqual({ kind: 'key-protect', masterKeyLabel: 'kp-master' });
    expect(KmsProviderConfig.parse({ kind: 'hpcs' })).toEqual({
      kind: 'hpcs',
      defaultThreshold: 2,
      ceremonyKeyLabel: 'hpcs-ceremony',
      labelPrefix: 'hpcs',
    });
    expect(KmsProviderConfig.parse({ kind: 'local-hsm' })).toEqual({ kind: 'local-hsm', labelPrefix: 'lh' });
  });

  it('names the field that is wrong', () => {
    const cases: [unknown, string][] = [
      [{ kind: 'vault' }, 'kind'],
      [{ kind: 'hpcs', defaultThreshold: 1 }, 'defaultThreshold'],
      [{ kind: 'hpcs', defaultThreshold: 9 }, 'defaultThreshold'],
      [{ kind: 'key-protect', masterKeyLabel: '' }, 'masterKeyLabel'],
      [{ kind: 'local-hsm', labelPrefix: 'has space' }, 'labelPrefix'],
      [{ kind: 'local-hsm', masterKeyLabel: 'x' }, ''],
    ];
    for (const [input, field] of cases) {
      const result = KmsProviderConfig.safeParse(input);
      expect(result.success, JSON.stringify(input)).toBe(false);
      if (!result.success && field) expect(result.error.issues.map((issue) => issue.path.join('.'))).toContain(field);
    }
  });
});

describe('createProvider', () => {
  it('builds each kind with its defaults', () => {
    const hsm = new FakeHsm();
    expect(createProvider('key-protect', { hsm })).toBeInstanceOf(KeyProtectProvider);
    expect(createProvider('hpcs', { hsm })).toBeInstanceOf(HpcsProvider);
    expect(createProvider('local-hsm', { hsm })).toBeInstanceOf(LocalHsmProvider);
    expect(providerKinds.map((kind) => createProvider(kind, { hsm }).kind)).toEqual(['key-protect', 'hpcs', 'local-hsm']);
  });

  it('uses the settings of its config branch', async () => {
    const hsm = new FakeHsm();
    const keyProtect = createProvider({ kind: 'key-protect', masterKeyLabel: 'tenant-master' }, { hsm });
    await keyProtect.createVersion((await activeInstance(keyProtect, 'i1')).context);
    const local = createProvider({ kind: 'local-hsm', labelPrefix: 'fast' }, { hsm });
    const version = await local.createVersion((await activeInstance(local, 'i2')).context);
    expect(version).toMatch(/^fast-i2-[0-9a-f-]{36}$/);
    const hpcs = createProvider({ kind: 'hpcs', labelPrefix: 'kyok', ceremonyKeyLabel: 'parts-key', defaultThreshold: 3 }, { hsm });
    const state = await hpcs.createInstance('i3', {});
    expect(await hpcs.masterKey({ instanceId: 'i3', state })).toMatchObject({ threshold: 3 });
    await activeInstance(createProvider({ kind: 'hpcs', labelPrefix: 'kyok', ceremonyKeyLabel: 'parts-key' }, { hsm }), 'i4');
    expect(hsm.labels()).toEqual(['kyok-i4-mk', 'parts-key', 'tenant-master', version].sort());
  });

  it('refuses an invalid config', () => {
    expect(() => createProvider({ kind: 'hpcs', defaultThreshold: 0 }, { hsm: new FakeHsm() })).toThrow(/defaultThreshold/);
  });
});

describe('ProviderRegistry', () => {
  it('holds one provider per kind, configured or with defaults', () => {
    const registry = new ProviderRegistry({ hsm: new FakeHsm() }, [{ kind: 'local-hsm', labelPrefix: 'x' }]);
    expect(registry.kinds()).toEqual(['key-protect', 'hpcs', 'local-hsm']);
    for (const kind of providerKinds) {
      expect(registry.get(kind).kind).toBe(kind);
      expect(registry.get(kind)).toBe(registry.get(kind));
    }
  });

  it('refuses two configurations of one kind', () => {
    expect(() => new ProviderRegistry({ hsm: new FakeHsm() }, [{ kind: 'hpcs' }, { kind: 'hpcs', defaultThreshold: 3 }])).toThrow(
      /Two configurations for the KMS provider "hpcs"/,
    );
  });
});
