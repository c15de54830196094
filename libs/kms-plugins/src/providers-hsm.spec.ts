import { randomBytes } from 'node:crypto';
import { HsmKeyExistsError, type KeyRef } from '@sealbox/hsm';
import { describe, expect, it } from 'vitest';
import { createProvider, providerKinds } from './registry.js';
import { ProviderError } from './provider.js';
import { activeInstance, contextOf, expectProviderError, FakeHsm, MANAGERS, newInstanceId } from './testing/index.js';

const aad = Buffer.from('unit');

describe('HSM errors as provider errors', () => {
  for (const kind of providerKinds) {
    it(`${kind}: an unreachable HSM is UNAVAILABLE on every key operation, and service resumes when it is back`, async () => {
      const hsm = new FakeHsm();
      const provider = createProvider(kind, { hsm });
      const { context } = await activeInstance(provider);
      const version = await provider.createVersion(context);
      const dek = randomBytes(32);
      const wrapped = await provider.wrap(context, version, dek, aad);

      hsm.setOutage(true);
      await expectProviderError(provider.createVersion(context), 'UNAVAILABLE');
      await expectProviderError(provider.createVersion(context, randomBytes(32)), 'UNAVAILABLE');
      await expectProviderError(provider.wrap(context, version, dek, aad), 'UNAVAILABLE');
      await expectProviderError(provider.unwrap(context, version, wrapped, aad), 'UNAVAILABLE');

      hsm.setOutage(false);
      expect((await provider.unwrap(context, version, wrapped, aad)).equals(dek)).toBe(true);
    });
  }

  it('hpcs: an unreachable HSM during the ceremony is UNAVAILABLE and the state stays as it was', async () => {
    const hsm = new FakeHsm();
    const provider = createProvider('hpcs', { hsm });
    const instanceId = newInstanceId();
    const first = await provider.loadMasterKeyPart(contextOf(instanceId, await provider.createInstance(instanceId, {})), MANAGERS[0], randomBytes(32));
    hsm.setOutage(true);
    await expectProviderError(provider.loadMasterKeyPart(contextOf(instanceId, first.state), MANAGERS[1], randomBytes(32)), 'UNAVAILABLE');
    await expectProviderError(provider.zeroizeMasterKey(contextOf(instanceId, first.state)), 'UNAVAILABLE');
    hsm.setOutage(false);
    const done = await provider.loadMasterKeyPart(contextOf(instanceId, first.state), MANAGERS[1], randomBytes(32));
    expect(done.info.status).toBe('active');
  });

  it('an error that is not the port’s passes unchanged', async () => {
    class BrokenHsm extends FakeHsm {
      override async encrypt(): Promise<Buffer> {
        throw new TypeError('bug');
      }
    }
    const hsm = new BrokenHsm();
    const provider = createProvider('local-hsm', { hsm });
    const { context } = await activeInstance(provider);
    const version = await provider.createVersion(context);
    const error = await provider.wrap(context, version, randomBytes(32), aad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).not.toBeInstanceOf(ProviderError);
  });
});

describe('key-protect master key', () => {
  it('is created once, on first use, even when first uses race', async () => {
    const hsm = new CountingHsm();
    const provider = createProvider('key-protect', { hsm });
    const instances = await Promise.all(Array.from({ length: 5 }, () => activeInstance(provider)));
    await Promise.all(instances.map(({ context }) => provider.createVersion(context)));
    expect(hsm.labels()).toEqual(['kp-master']);
    expect(hsm.generated).toBe(1);
    // Another process (a second provider object) finds it.
    await createProvider('key-protect', { hsm }).createInstance(newInstanceId(), {});
    expect(hsm.generated).toBe(1);
  });

  it('cannot be made while the HSM is unreachable (UNAVAILABLE), and is made once it is back', async () => {
    const hsm = new FakeHsm();
    const provider = createProvider('key-protect', { hsm });
    hsm.setOutage(true);
    await expectProviderError(provider.createInstance(newInstanceId(), {}), 'UNAVAILABLE');
    hsm.setOutage(false);
    const { context } = await activeInstance(provider);
    expect(await provider.createVersion(context)).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(hsm.labels()).toEqual(['kp-master']);
  });

  it('a race lost to another process (the label appeared meanwhile) is fine', async () => {
    const hsm = new RacingHsm();
    const provider = createProvider('key-protect', { hsm });
    const { context } = await activeInstance(provider);
    const version = await provider.createVersion(context);
    const dek = randomBytes(32);
    expect((await provider.unwrap(context, version, await provider.wrap(context, version, dek, aad), aad)).equals(dek)).toBe(true);
  });

  it('lost from the HSM: UNAVAILABLE, never a wrong key; the old versions stay unopenable', async () => {
    const hsm = new FakeHsm();
    const provider = createProvider('key-protect', { hsm });
    const { context } = await activeInstance(provider);
    const version = await provider.createVersion(context);
    const wrapped = await provider.wrap(context, version, randomBytes(32), aad);
    await hsm.destroyKey('kp-master');
    await expectProviderError(provider.unwrap(context, version, wrapped, aad), 'UNAVAILABLE');
    await provider.createVersion(context); // makes a new master key
    await expectProviderError(provider.unwrap(context, version, wrapped, aad), 'INTEGRITY');
  });
});

describe('hpcs key ceremony internals', () => {
  it('zeroes the opened parts and the master key it imported', async () => {
    const hsm = new RecordingHsm();
    const provider = createProvider('hpcs', { hsm });
    await activeInstance(provider);
    expect(hsm.imported).toHaveLength(1);
    expect(hsm.opened).toHaveLength(1);
    for (const buffer of [...hsm.imported, ...hsm.opened]) expect(buffer.equals(Buffer.alloc(32))).toBe(true);
  });

  it('creates the ceremony key at the first part, not before', async () => {
    const hsm = new FakeHsm();
    const provider = createProvider('hpcs', { hsm });
    const instanceId = newInstanceId();
    const state = await provider.createInstance(instanceId, {});
    expect(hsm.labels()).toEqual([]);
    await provider.loadMasterKeyPart(contextOf(instanceId, state), MANAGERS[0], randomBytes(32));
    expect(hsm.labels()).toEqual(['hpcs-ceremony']);
  });

  it('replaces a master key left by an interrupted activation (the state was never saved as active)', async () => {
    const hsm = new FakeHsm();
    const provider = createProvider('hpcs', { hsm });
    const instanceId = newInstanceId();
    await hsm.generateKey(`hpcs-${instanceId}-mk`);
    const { context } = await activeInstance(provider, instanceId);
    const version = await provider.createVersion(context);
    const dek = randomBytes(32);
    expect((await provider.unwrap(context, version, await provider.wrap(context, version, dek, aad), aad)).equals(dek)).toBe(true);
  });

  it('refuses a threshold outside 2..8', async () => {
    const provider = createProvider('hpcs', { hsm: new FakeHsm() });
    for (const threshold of [0, 1, 9, 2.5]) {
      await expect(provider.createInstance(newInstanceId(), { threshold })).rejects.toBeInstanceOf(RangeError);
    }
  });

  it('zeroize shreds the master key even when the stored state is corrupt, and starts over', async () => {
    const hsm = new FakeHsm();
    const provider = createProvider('hpcs', { hsm });
    const { context } = await activeInstance(provider);
    const state = await provider.zeroizeMasterKey({ instanceId: context.instanceId, state: { ...context.state, status: 'broken' } });
    expect(await hsm.hasKey(`hpcs-${context.instanceId}-mk`)).toBe(false);
    expect(await provider.masterKey(contextOf(context.instanceId, state))).toEqual({ status: 'uninitialized', threshold: 2, partsLoaded: 0 });
  });

  it('refuses an identity over 256 characters (INVALID_PART)', async () => {
    const provider = createProvider('hpcs', { hsm: new FakeHsm() });
    const instanceId = newInstanceId();
    const context = contextOf(instanceId, await provider.createInstance(instanceId, {}));
    await expectProviderError(provider.loadMasterKeyPart(context, 'i'.repeat(257), randomBytes(32)), 'INVALID_PART');
    expect((await provider.loadMasterKeyPart(context, 'i'.repeat(256), randomBytes(32))).info.status).toBe('pending');
  });

  it('deleteInstance destroys the master key even when the stored state is corrupt', async () => {
    const hsm = new FakeHsm();
    const provider = createProvider('hpcs', { hsm });
    const { context } = await activeInstance(provider);
    await provider.deleteInstance({ instanceId: context.instanceId, state: { garbage: true } });
    expect(await hsm.hasKey(`hpcs-${context.instanceId}-mk`)).toBe(false);
  });
});

class CountingHsm extends FakeHsm {
  generated = 0;
  override async generateKey(label: string): Promise<void> {
    this.generated += 1;
    await super.generateKey(label);
  }
}

/** hasKey says no, then someone else creates the key before our generateKey. */
class RacingHsm extends FakeHsm {
  private raced = false;
  override async generateKey(label: string): Promise<void> {
    if (!this.raced) {
      this.raced = true;
      await super.generateKey(label);
      throw new HsmKeyExistsError(label);
    }
    await super.generateKey(label);
  }
}

/** Keeps references to the clear buffers the provider hands to / gets from the HSM. */
class RecordingHsm extends FakeHsm {
  readonly imported: Buffer[] = [];
  readonly opened: Buffer[] = [];
  override async importKey(label: string, material: Buffer): Promise<void> {
    this.imported.push(material);
    await super.importKey(label, material);
  }
  override async decrypt(key: KeyRef, sealed: Buffer, aadBytes?: Buffer): Promise<Buffer> {
    const clear = await super.decrypt(key, sealed, aadBytes);
    if ('label' in key && key.label === 'hpcs-ceremony') this.opened.push(clear);
    return clear;
  }
}

describe('what providers have the HSM forget', () => {
  const blobOf = (version: string) => Buffer.from(version, 'base64');

  for (const kind of ['key-protect', 'hpcs'] as const) {
    it(`${kind}: release and destroyVersion have the HSM forget exactly the versions' blobs`, async () => {
      const hsm = new FakeHsm();
      const provider = createProvider(kind, { hsm });
      const { context } = await activeInstance(provider);
      const [a, b] = [await provider.createVersion(context), await provider.createVersion(context)];
      await provider.wrap(context, a, randomBytes(32), aad);
      await provider.release(context, [a, b]);
      await provider.destroyVersion(context, b);
      const forgotten = hsm.forgotten.map((ref: KeyRef) => ('blob' in ref ? ref.blob.toString('base64') : `label:${ref.label}`));
      expect(forgotten).toEqual([a, b, b]);
      const wrappedBy = new Set(hsm.forgotten.map((ref: KeyRef) => ('wrappedBy' in ref ? ref.wrappedBy : '')));
      expect(wrappedBy.size).toBe(1);
      expect(blobOf(a)).toHaveLength(40);
    });
  }

  it('hpcs: release of the whole instance forgets everything under its master key', async () => {
    const hsm = new FakeHsm();
    const provider = createProvider('hpcs', { hsm });
    const { context } = await activeInstance(provider);
    await provider.release(context);
    expect(hsm.forgotten).toEqual([{ label: expect.stringMatching(/-mk$/) }]);
  });

  it('key-protect: release of the whole instance has nothing of the instance alone to forget; local-hsm keeps nothing', async () => {
    for (const kind of ['key-protect', 'local-hsm'] as const) {
      const hsm = new FakeHsm();
      const provider = createProvider(kind, { hsm });
      const { context } = await activeInstance(provider);
      const version = await provider.createVersion(context);
      await provider.release(context);
      await provider.release(context, [version]);
      expect(hsm.forgotten.length).toBe(kind === 'key-protect' ? 1 : 0);
    }
  });
});
