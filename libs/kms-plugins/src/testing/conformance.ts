/**
 * ONE conformance suite for the KMS provider plugins: a provider is "done" when it passes it. Run
 * against all three providers on the in-memory fake HSM (unit tier) and on the real HSM backends
 * (medium tier: pkcs11 on SoftHSM2, and the soft emulator). `describeHpcsCeremony` adds the HPCS key
 * ceremony and zeroization rules, run on the same HSMs.
 *
 * Lives under src/testing/ so the library build (which excludes that folder) never ships it.
 */
import { createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { Hsm } from '@sealbox/hsm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wrapAad } from '../binding.js';
import { VERIFICATION_MESSAGE } from '../hpcs.js';
import { MAX_DEK_BYTES, type InstanceContext, type InstanceState, type KmsProvider } from '../provider.js';
import {
  activeInstance,
  contextOf,
  expectProviderError,
  instanceTokenKeys,
  MANAGERS,
  newInstanceId,
  stored,
  tamper,
  versionsAreTokenKeys,
  xorParts,
} from './helpers.js';

/** What a test run provides: one HSM and providers on it. */
export interface ProviderUnderTest {
  readonly hsm: Hsm;
  /** A provider on `hsm`; called again for a new provider object (a restarted kms process). */
  provider(): KmsProvider;
  close(): Promise<void>;
}

export type ProviderFactory = () => ProviderUnderTest | Promise<ProviderUnderTest>;

const aadOf = (text: string): Buffer => Buffer.from(text, 'utf8');

export function describeProviderConformance(name: string, factory: ProviderFactory): void {
  describe(`${name}: KMS provider conformance`, () => {
    let harness: ProviderUnderTest;
    let provider: KmsProvider;

    beforeAll(async () => {
      harness = await factory();
      provider = harness.provider();
    });
    afterAll(async () => {
      await harness?.close();
    });

    it('creates an instance whose state survives storage as JSON', async () => {
      const instanceId = newInstanceId();
      const state = await provider.createInstance(instanceId, {});
      expect(stored(state)).toEqual(state);
      const before = await provider.masterKey(contextOf(instanceId, state));
      expect(before.status).toBe(provider.kind === 'hpcs' ? 'uninitialized' : 'not_applicable');
      const { context } = await activeInstance(provider, instanceId);
      const after = await provider.masterKey(context);
      expect(after.status).toBe(provider.kind === 'hpcs' ? 'active' : 'not_applicable');
    });

    it('wraps and unwraps a data key under a generated version, binding the AAD', async () => {
      const { context } = await activeInstance(provider);
      const version = await provider.createVersion(context);
      expect(typeof version).toBe('string');
      const dek = randomBytes(32);
      const aad = aadOf('crn:v1:sealbox:public:secrets-manager:local:a/acc:inst::|secret-1|version-1');
      const wrapped = await provider.wrap(context, version, dek, aad);
      expect(wrapped.includes(dek)).toBe(false);
      const again = await provider.wrap(context, version, dek, aad);
      expect(again.equals(wrapped)).toBe(false);
      expect((await provider.unwrap(context, version, wrapped, aad)).equals(dek)).toBe(true);
      expect((await provider.unwrap(context, version, again, aad)).equals(dek)).toBe(true);
    });

    it('wraps data keys of 1 byte to 4 KiB and refuses empty or larger ones (INVALID_MATERIAL)', async () => {
      const { context } = await activeInstance(provider);
      const version = await provider.createVersion(context);
      for (const size of [1, 16, 32, 64, MAX_DEK_BYTES]) {
        const dek = randomBytes(size);
        const wrapped = await provider.wrap(context, version, dek, aadOf('size'));
        expect((await provider.unwrap(context, version, wrapped, aadOf('size'))).equals(dek)).toBe(true);
      }
      await expectProviderError(provider.wrap(context, version, Buffer.alloc(0), aadOf('x')), 'INVALID_MATERIAL');
      await expectProviderError(provider.wrap(context, version, randomBytes(MAX_DEK_BYTES + 1), aadOf('x')), 'INVALID_MATERIAL');
    });

    it('an empty AAD works and is not interchangeable with a non-empty one', async () => {
      const { context } = await activeInstance(provider);
      const version = await provider.createVersion(context);
      const dek = randomBytes(32);
      const wrapped = await provider.wrap(context, version, dek, Buffer.alloc(0));
      expect((await provider.unwrap(context, version, wrapped, Buffer.alloc(0))).equals(dek)).toBe(true);
      await expectProviderError(provider.unwrap(context, version, wrapped, Buffer.from([0])), 'INTEGRITY');
      const withAad = await provider.wrap(context, version, dek, aadOf('a'));
      await expectProviderError(provider.unwrap(context, version, withAad, Buffer.alloc(0)), 'INTEGRITY');
    });

    it('an imported version IS the imported key: the same data key unwraps, as AES-256-GCM under that material', async () => {
      const { context } = await activeInstance(provider);
      const material = randomBytes(32);
      const copy = Buffer.from(material);
      const version = await provider.createVersion(context, material);
      material.fill(0); // the caller zeroes it: the provider must not have kept a reference
      expect(version.includes(copy.toString('base64'))).toBe(false);
      expect(version.includes(copy.toString('hex'))).toBe(false);
      const dek = randomBytes(32);
      const aad = aadOf('imported');
      const wrapped = await provider.wrap(context, version, dek, aad);
      expect((await provider.unwrap(context, version, wrapped, aad)).equals(dek)).toBe(true);
      // BYOK: the customer's material is the key that protects the data key (nonce || ct || tag).
      const decipher = createDecipheriv('aes-256-gcm', copy, wrapped.subarray(0, 12));
      decipher.setAAD(wrapAad(provider.kind, context.instanceId, aad));
      decipher.setAuthTag(wrapped.subarray(wrapped.length - 16));
      const opened = Buffer.concat([decipher.update(wrapped.subarray(12, wrapped.length - 16)), decipher.final()]);
      expect(opened.equals(dek)).toBe(true);
      copy.fill(0);
    });

    it('refuses imported material that is not exactly 32 bytes (INVALID_MATERIAL)', async () => {
      const { context } = await activeInstance(provider);
      for (const size of [0, 16, 31, 33, 64]) {
        await expectProviderError(provider.createVersion(context, randomBytes(size)), 'INVALID_MATERIAL');
      }
    });

    it('a wrong AAD does not open (INTEGRITY)', async () => {
      const { context } = await activeInstance(provider);
      const version = await provider.createVersion(context);
      const wrapped = await provider.wrap(context, version, randomBytes(32), aadOf('secret-1|version-1'));
      for (const other of ['secret-1|version-2', 'secret-1|version-1 ', 'secret-2|version-1', '']) {
        await expectProviderError(provider.unwrap(context, version, wrapped, aadOf(other)), 'INTEGRITY');
      }
    });

    it('another version of the same instance does not open (INTEGRITY)', async () => {
      const { context } = await activeInstance(provider);
      const first = await provider.createVersion(context);
      const second = await provider.createVersion(context, randomBytes(32));
      const dek = randomBytes(32);
      const underFirst = await provider.wrap(context, first, dek, aadOf('a'));
      const underSecond = await provider.wrap(context, second, dek, aadOf('a'));
      await expectProviderError(provider.unwrap(context, second, underFirst, aadOf('a')), 'INTEGRITY');
      await expectProviderError(provider.unwrap(context, first, underSecond, aadOf('a')), 'INTEGRITY');
    });

    it('another instance does not open, even with the same imported material (INTEGRITY)', async () => {
      const a = await activeInstance(provider);
      const b = await activeInstance(provider);
      const material = randomBytes(32);
      const versionA = await provider.createVersion(a.context, material);
      const versionB = await provider.createVersion(b.context, material);
      material.fill(0);
      const dek = randomBytes(32);
      const aad = aadOf('same-context');
      const wrappedA = await provider.wrap(a.context, versionA, dek, aad);
      const wrappedB = await provider.wrap(b.context, versionB, dek, aad);
      await expectProviderError(provider.unwrap(b.context, versionB, wrappedA, aad), 'INTEGRITY');
      await expectProviderError(provider.unwrap(a.context, versionA, wrappedB, aad), 'INTEGRITY');
      // One instance's version material handed to another instance (a swapped database row).
      await expectProviderError(provider.unwrap(b.context, versionA, wrappedA, aad), 'INTEGRITY');
      const cross = await provider.wrap(b.context, versionA, dek, aad).then(
        (wrapped) => wrapped,
        (error: unknown) => error,
      );
      if (Buffer.isBuffer(cross)) await expectProviderError(provider.unwrap(a.context, versionA, cross, aad), 'INTEGRITY');
      else expect(cross).toMatchObject({ name: 'ProviderError', code: 'INTEGRITY' });
    });

    it('a flipped bit anywhere, a truncation or an extension does not open (INTEGRITY)', async () => {
      const { context } = await activeInstance(provider);
      const version = await provider.createVersion(context);
      const dek = randomBytes(32);
      const aad = aadOf('bits');
      const wrapped = await provider.wrap(context, version, dek, aad);
      for (let at = 0; at < wrapped.length; at += 1) {
        const flipped = Buffer.from(wrapped);
        flipped[at] ^= 1 << (at % 8);
        await expectProviderError(provider.unwrap(context, version, flipped, aad), 'INTEGRITY');
      }
      for (const broken of [
        Buffer.alloc(0),
        wrapped.subarray(0, 12),
        wrapped.subarray(0, wrapped.length - 1),
        wrapped.subarray(1),
        Buffer.concat([wrapped, Buffer.from([0])]),
      ]) {
        await expectProviderError(provider.unwrap(context, version, broken, aad), 'INTEGRITY');
      }
    });

    it('a tampered version material does not open (INTEGRITY)', async () => {
      const { context } = await activeInstance(provider);
      const version = await provider.createVersion(context);
      const dek = randomBytes(32);
      const wrapped = await provider.wrap(context, version, dek, aadOf('m'));
      for (const bad of [tamper(version), `${version}x`, version.slice(1), '']) {
        await expectProviderError(provider.unwrap(context, bad, wrapped, aadOf('m')), 'INTEGRITY');
      }
      expect((await provider.unwrap(context, version, wrapped, aadOf('m'))).equals(dek)).toBe(true);
    });

    it('refuses a state that is not its own (INTEGRITY)', async () => {
      const { context } = await activeInstance(provider);
      const version = await provider.createVersion(context);
      for (const state of [{}, { provider: 'other', v: 1 }, { ...context.state, v: 2 }] as InstanceState[]) {
        const bad: InstanceContext = { instanceId: context.instanceId, state };
        await expectProviderError(provider.wrap(bad, version, randomBytes(32), aadOf('s')), 'INTEGRITY');
        await expectProviderError(provider.createVersion(bad), 'INTEGRITY');
      }
    });

    it('a new provider on the same HSM (a restarted service) opens what the first one wrapped', async () => {
      const { context } = await activeInstance(provider);
      const generated = await provider.createVersion(context);
      const imported = await provider.createVersion(context, randomBytes(32));
      const dek = randomBytes(48);
      const wrapped = [
        await provider.wrap(context, generated, dek, aadOf('r')),
        await provider.wrap(context, imported, dek, aadOf('r')),
      ];
      const restarted = harness.provider();
      expect(restarted).not.toBe(provider);
      expect((await restarted.unwrap(context, generated, wrapped[0] ?? Buffer.alloc(0), aadOf('r'))).equals(dek)).toBe(true);
      expect((await restarted.unwrap(context, imported, wrapped[1] ?? Buffer.alloc(0), aadOf('r'))).equals(dek)).toBe(true);
    });

    it('destroyVersion: a token key version (local-hsm) stops working at once; a blob version is discarded by kms', async () => {
      const { context } = await activeInstance(provider);
      const doomed = await provider.createVersion(context);
      const kept = await provider.createVersion(context, randomBytes(32));
      const dek = randomBytes(32);
      const wrapped = await provider.wrap(context, doomed, dek, aadOf('d'));
      await provider.destroyVersion(context, doomed);
      if (versionsAreTokenKeys(provider)) {
        expect(await harness.hsm.hasKey(doomed)).toBe(false);
        await expectProviderError(provider.unwrap(context, doomed, wrapped, aadOf('d')), 'INTEGRITY');
        await expectProviderError(provider.wrap(context, doomed, dek, aadOf('d')), 'INTEGRITY');
      } else {
        // Nothing is held in the HSM per version: the blob (kms's database row) is the material.
        await expectProviderError(provider.destroyVersion(context, `${doomed}!`), 'INTEGRITY');
      }
      await provider.destroyVersion(context, doomed); // idempotent
      const other = await provider.wrap(context, kept, dek, aadOf('d'));
      expect((await provider.unwrap(context, kept, other, aadOf('d'))).equals(dek)).toBe(true);
    });

    it('release (of versions, or of the whole instance) leaves every version working and skips what is not its own', async () => {
      const { context } = await activeInstance(provider);
      const generated = await provider.createVersion(context);
      const imported = await provider.createVersion(context, randomBytes(32));
      const dek = randomBytes(32);
      const sealed = [await provider.wrap(context, generated, dek, aadOf('r')), await provider.wrap(context, imported, dek, aadOf('r'))];
      await provider.release(context, [generated, imported, 'not-a-version!']);
      expect((await provider.unwrap(context, generated, sealed[0]!, aadOf('r'))).equals(dek)).toBe(true);
      await provider.release(context);
      expect((await provider.unwrap(context, imported, sealed[1]!, aadOf('r'))).equals(dek)).toBe(true);
      const again = await provider.wrap(context, generated, dek, aadOf('r'));
      expect((await provider.unwrap(context, generated, again, aadOf('r'))).equals(dek)).toBe(true);
    });

    it('deleteInstance removes the token keys of the instance and leaves other instances working', async () => {
      const doomed = await activeInstance(provider);
      const kept = await activeInstance(provider);
      const versions = [await provider.createVersion(doomed.context), await provider.createVersion(doomed.context, randomBytes(32))];
      const keptVersion = await provider.createVersion(kept.context);
      const dek = randomBytes(32);
      const wrapped = await provider.wrap(doomed.context, versions[0] ?? '', dek, aadOf('del'));
      const keptWrapped = await provider.wrap(kept.context, keptVersion, dek, aadOf('del'));
      const tokenKeys = instanceTokenKeys(provider, doomed.context.instanceId, versions);
      for (const label of tokenKeys) expect(await harness.hsm.hasKey(label)).toBe(true);

      await provider.deleteInstance(doomed.context, versions);

      for (const label of tokenKeys) expect(await harness.hsm.hasKey(label)).toBe(false);
      if (tokenKeys.length > 0) {
        const code = provider.kind === 'hpcs' ? 'NOT_INITIALIZED' : 'INTEGRITY';
        await expectProviderError(provider.unwrap(doomed.context, versions[0] ?? '', wrapped, aadOf('del')), code);
      }
      await provider.deleteInstance(doomed.context, versions);
      expect((await provider.unwrap(kept.context, keptVersion, keptWrapped, aadOf('del'))).equals(dek)).toBe(true);
    });

    it('reports its master key: HPCS active with a verification pattern, the others not_applicable and NOT_APPLICABLE ceremony calls', async () => {
      const { context, parts } = await activeInstance(provider);
      const info = await provider.masterKey(context);
      if (provider.kind === 'hpcs') {
        const master = xorParts(parts);
        const pattern = createHmac('sha256', master).update(VERIFICATION_MESSAGE).digest('hex');
        master.fill(0);
        expect(info).toEqual({ status: 'active', threshold: 2, partsLoaded: 2, verificationPattern: pattern });
        return;
      }
      expect(info).toEqual({ status: 'not_applicable' });
      await expectProviderError(provider.loadMasterKeyPart(context, MANAGERS[0], randomBytes(32)), 'NOT_APPLICABLE');
      await expectProviderError(provider.zeroizeMasterKey(context), 'NOT_APPLICABLE');
    });

    it('serves instances whose ids are long or not label-safe, each apart from the others', async () => {
      const ids = ['x'.repeat(128), 'x'.repeat(127), 'tenant a/ключ:1', 'a', 'a-b'];
      const instances = await Promise.all(ids.map((id) => activeInstance(provider, id)));
      const dek = randomBytes(32);
      const material = randomBytes(32);
      const versions = await Promise.all(instances.map(({ context }) => provider.createVersion(context, material)));
      material.fill(0);
      const wrapped = await Promise.all(instances.map(({ context }, n) => provider.wrap(context, versions[n] ?? '', dek, aadOf('ids'))));
      for (const [n, { context }] of instances.entries()) {
        expect((await provider.unwrap(context, versions[n] ?? '', wrapped[n] ?? Buffer.alloc(0), aadOf('ids'))).equals(dek)).toBe(true);
        const next = instances[(n + 1) % instances.length];
        if (!next) throw new Error('unreachable');
        await expectProviderError(provider.unwrap(next.context, versions[n] ?? '', wrapped[n] ?? Buffer.alloc(0), aadOf('ids')), 'INTEGRITY');
      }
      for (const [n, { context }] of instances.entries()) {
        const keys = instanceTokenKeys(provider, context.instanceId, [versions[n] ?? '']);
        await provider.deleteInstance(context, [versions[n] ?? '']);
        for (const label of keys) expect(await harness.hsm.hasKey(label)).toBe(false);
      }
    });

    it('serves concurrent wraps and unwraps on several instances and versions', async () => {
      const instances = await Promise.all([activeInstance(provider), activeInstance(provider), activeInstance(provider)]);
      const jobs = instances.flatMap(({ context }) =>
        [undefined, randomBytes(32)].map(async (material) => {
          const version = await provider.createVersion(context, material);
          return Promise.all(
            Array.from({ length: 8 }, async (_, n) => {
              const dek = randomBytes(32);
              const aad = aadOf(`${context.instanceId}|${n}`);
              const wrapped = await provider.wrap(context, version, dek, aad);
              return (await provider.unwrap(context, version, wrapped, aad)).equals(dek);
            }),
          );
        }),
      );
      const results = (await Promise.all(jobs)).flat();
      expect(results).toHaveLength(48);
      expect(results.every(Boolean)).toBe(true);
    });
  });
}
