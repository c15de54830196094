/**
 * The HPCS key ceremony and zeroization rules, on top of the provider conformance suite: run on
 * the fake HSM (unit tier) and on the real HSM backends (medium tier).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERIFICATION_MESSAGE } from '../hpcs.js';
import type { InstanceContext, InstanceState, KmsProvider, MasterKeyInfo } from '../provider.js';
import type { ProviderFactory, ProviderUnderTest } from './conformance.js';
import {
  activeInstance,
  contextOf,
  expectProviderError,
  MANAGERS,
  masterLabelOf,
  newInstanceId,
  stored,
  xorParts,
} from './helpers.js';

const [ALICE, BOB, CAROL] = MANAGERS;
const aad = Buffer.from('ceremony');

function patternOf(parts: readonly Buffer[]): string {
  const master = xorParts(parts);
  try {
    return createHmac('sha256', master).update(VERIFICATION_MESSAGE).digest('hex');
  } finally {
    master.fill(0);
  }
}

/** Every encoding of `secret` a careless state could hold, none of which may appear in it. */
function encodingsOf(secret: Buffer): string[] {
  return [secret.toString('base64'), secret.toString('base64url'), secret.toString('hex'), secret.toString('hex').toUpperCase()];
}

function expectNoSecretIn(state: InstanceState, secrets: readonly Buffer[]): void {
  const json = JSON.stringify(state);
  const raw = Buffer.from(json, 'latin1');
  for (const secret of secrets) {
    for (const encoded of encodingsOf(secret)) expect(json.includes(encoded)).toBe(false);
    expect(raw.includes(secret)).toBe(false);
    expect(json.includes(JSON.stringify([...secret]).slice(1, -1))).toBe(false);
  }
}

export function describeHpcsCeremony(name: string, factory: ProviderFactory): void {
  describe(`${name}: HPCS key ceremony`, () => {
    let harness: ProviderUnderTest;
    let provider: KmsProvider;

    beforeAll(async () => {
      harness = await factory();
      provider = harness.provider();
      expect(provider.kind).toBe('hpcs');
    });
    afterAll(async () => {
      await harness?.close();
    });

    async function load(context: InstanceContext, identity: string, part: Buffer): Promise<{ context: InstanceContext; info: MasterKeyInfo }> {
      const { state, info } = await provider.loadMasterKeyPart(context, identity, part);
      return { context: contextOf(context.instanceId, state), info };
    }

    async function created(threshold?: number): Promise<InstanceContext> {
      const instanceId = newInstanceId();
      return contextOf(instanceId, await provider.createInstance(instanceId, threshold === undefined ? {} : { threshold }));
    }

    it('a new instance is uninitialized, with threshold 2 by default or the one given', async () => {
      expect(await provider.masterKey(await created())).toEqual({ status: 'uninitialized', threshold: 2, partsLoaded: 0 });
      expect(await provider.masterKey(await created(3))).toEqual({ status: 'uninitialized', threshold: 3, partsLoaded: 0 });
    });

    it('refuses key operations until the ceremony completes (NOT_INITIALIZED)', async () => {
      const other = await activeInstance(provider);
      const version = await provider.createVersion(other.context);
      const wrapped = await provider.wrap(other.context, version, randomBytes(32), aad);
      const fresh = await created();
      const pending = (await load(fresh, ALICE, randomBytes(32))).context;
      for (const context of [fresh, pending]) {
        await expectProviderError(provider.createVersion(context), 'NOT_INITIALIZED');
        await expectProviderError(provider.createVersion(context, randomBytes(32)), 'NOT_INITIALIZED');
        await expectProviderError(provider.wrap(context, version, randomBytes(32), aad), 'NOT_INITIALIZED');
        await expectProviderError(provider.unwrap(context, version, wrapped, aad), 'NOT_INITIALIZED');
      }
      expect(await harness.hsm.hasKey(masterLabelOf(provider, fresh.instanceId))).toBe(false);
    });

    it('one part makes the master key pending (1 of 2)', async () => {
      const { context, info } = await load(await created(), ALICE, randomBytes(32));
      expect(info).toEqual({ status: 'pending', threshold: 2, partsLoaded: 1 });
      expect(await provider.masterKey(context)).toEqual(info);
    });

    it('refuses a second part from the same identity (DUPLICATE_IDENTITY) and keeps the pending one', async () => {
      const { context } = await load(await created(), ALICE, randomBytes(32));
      await expectProviderError(provider.loadMasterKeyPart(context, ALICE, randomBytes(32)), 'DUPLICATE_IDENTITY');
      expect(await provider.masterKey(context)).toEqual({ status: 'pending', threshold: 2, partsLoaded: 1 });
      const { info } = await load(context, BOB, randomBytes(32));
      expect(info.status).toBe('active');
    });

    it('refuses a part that is not exactly 32 bytes, or one without an identity (INVALID_PART)', async () => {
      const context = await created();
      for (const size of [0, 1, 16, 31, 33, 64]) {
        await expectProviderError(provider.loadMasterKeyPart(context, ALICE, randomBytes(size)), 'INVALID_PART');
      }
      await expectProviderError(provider.loadMasterKeyPart(context, '', randomBytes(32)), 'INVALID_PART');
      const pending = (await load(context, ALICE, randomBytes(32))).context;
      await expectProviderError(provider.loadMasterKeyPart(pending, BOB, randomBytes(31)), 'INVALID_PART');
      expect(await provider.masterKey(pending)).toEqual({ status: 'pending', threshold: 2, partsLoaded: 1 });
    });

    it('two parts from two managers activate it, with a verification pattern of the parts and only of the parts', async () => {
      const [p1, p2, p3] = [randomBytes(32), randomBytes(32), randomBytes(32)];
      const a = await load((await load(await created(), ALICE, p1)).context, BOB, p2);
      expect(a.info).toEqual({ status: 'active', threshold: 2, partsLoaded: 2, verificationPattern: patternOf([p1, p2]) });
      expect(a.info.verificationPattern).toMatch(/^[0-9a-f]{64}$/);
      // The same parts in another instance, in the other order, by other managers: the same key.
      const b = await load((await load(await created(), CAROL, p2)).context, ALICE, p1);
      expect(b.info.verificationPattern).toBe(a.info.verificationPattern);
      const c = await load((await load(await created(), ALICE, p1)).context, BOB, p3);
      expect(c.info.verificationPattern).not.toBe(a.info.verificationPattern);
      const master = xorParts([p1, p2]);
      for (const encoded of encodingsOf(master)) expect(a.info.verificationPattern?.includes(encoded)).toBe(false);
      master.fill(0);
      expect(await harness.hsm.hasKey(masterLabelOf(provider, a.context.instanceId))).toBe(true);
    });

    it('a threshold of 3 needs three distinct managers', async () => {
      const parts = [randomBytes(32), randomBytes(32), randomBytes(32)];
      let context = await created(3);
      const statuses: string[] = [];
      for (const [n, identity] of [ALICE, BOB, CAROL].entries()) {
        const step = await load(context, identity, parts[n] ?? Buffer.alloc(0));
        context = step.context;
        statuses.push(`${step.info.status} ${step.info.partsLoaded}/${step.info.threshold}`);
      }
      expect(statuses).toEqual(['pending 1/3', 'pending 2/3', 'active 3/3']);
      expect((await provider.masterKey(context)).verificationPattern).toBe(patternOf(parts));
      const version = await provider.createVersion(context);
      const dek = randomBytes(32);
      expect((await provider.unwrap(context, version, await provider.wrap(context, version, dek, aad), aad)).equals(dek)).toBe(true);
    });

    it('the state never holds a part, nor the master key, in clear', async () => {
      const parts = [randomBytes(32), randomBytes(32), randomBytes(32)];
      const master = xorParts(parts);
      let context = await created(3);
      const states: InstanceState[] = [context.state];
      for (const [n, identity] of [ALICE, BOB, CAROL].entries()) {
        context = (await load(context, identity, parts[n] ?? Buffer.alloc(0))).context;
        states.push(context.state);
      }
      states.push(await provider.zeroizeMasterKey(context));
      for (const state of states) expectNoSecretIn(state, [...parts, master]);
      master.fill(0);
    });

    it('refuses parts that cancel out (INVALID_PART)', async () => {
      const part = randomBytes(32);
      const { context } = await load(await created(), ALICE, part);
      await expectProviderError(provider.loadMasterKeyPart(context, BOB, Buffer.from(part)), 'INVALID_PART');
      expect(await provider.masterKey(context)).toEqual({ status: 'pending', threshold: 2, partsLoaded: 1 });
    });

    it('a sealed part moved to another identity, another instance or a later ceremony does not open (INTEGRITY)', async () => {
      const { context } = await load(await created(), ALICE, randomBytes(32));
      const pendingParts = context.state['parts'];
      if (!Array.isArray(pendingParts)) throw new Error('expected the pending parts in the state');
      const renamed = pendingParts.map((entry: unknown) => ({ ...(entry as object), identity: CAROL }));
      await expectProviderError(
        provider.loadMasterKeyPart({ ...context, state: { ...context.state, parts: renamed } }, BOB, randomBytes(32)),
        'INTEGRITY',
      );
      const elsewhere = await created();
      await expectProviderError(
        provider.loadMasterKeyPart(
          { ...elsewhere, state: { ...elsewhere.state, status: 'pending', parts: pendingParts } },
          BOB,
          randomBytes(32),
        ),
        'INTEGRITY',
      );
      // The same instance after a zeroize: a new ceremony, the old sealed parts are dead.
      const active = await load(context, BOB, randomBytes(32));
      const later = contextOf(context.instanceId, await provider.zeroizeMasterKey(active.context));
      await expectProviderError(
        provider.loadMasterKeyPart({ ...later, state: { ...later.state, status: 'pending', parts: pendingParts } }, BOB, randomBytes(32)),
        'INTEGRITY',
      );
    });

    it('refuses a part once the master key is active (NOT_APPLICABLE: zeroize first)', async () => {
      const { context } = await activeInstance(provider);
      await expectProviderError(provider.loadMasterKeyPart(context, CAROL, randomBytes(32)), 'NOT_APPLICABLE');
    });

    it('refuses a tampered state (INTEGRITY)', async () => {
      const { context } = await activeInstance(provider);
      const { verificationPattern: _pattern, ...withoutPattern } = context.state;
      for (const state of [
        withoutPattern,
        { ...context.state, threshold: 1 },
        { ...context.state, status: 'pending' },
        { ...context.state, extra: 'field' },
      ]) {
        await expectProviderError(provider.masterKey({ ...context, state }), 'INTEGRITY');
        await expectProviderError(provider.createVersion({ ...context, state }), 'INTEGRITY');
      }
    });

    it('zeroize shreds every key of the instance at once: its ciphertexts no longer open', async () => {
      const { context } = await activeInstance(provider);
      const versions = [await provider.createVersion(context), await provider.createVersion(context, randomBytes(32))];
      const dek = randomBytes(32);
      const wrapped = await Promise.all(versions.map((version) => provider.wrap(context, version, dek, aad)));

      const zeroized = contextOf(context.instanceId, await provider.zeroizeMasterKey(context));
      expect(await provider.masterKey(zeroized)).toEqual({ status: 'uninitialized', threshold: 2, partsLoaded: 0 });
      expect(await harness.hsm.hasKey(masterLabelOf(provider, context.instanceId))).toBe(false);
      for (const [n, version] of versions.entries()) {
        const ciphertext = wrapped[n] ?? Buffer.alloc(0);
        await expectProviderError(provider.unwrap(zeroized, version, ciphertext, aad), 'NOT_INITIALIZED');
        // A stale copy of the state still says active: the HSM no longer holds the key.
        await expectProviderError(provider.unwrap(context, version, ciphertext, aad), 'NOT_INITIALIZED');
        await expectProviderError(provider.wrap(context, version, dek, aad), 'NOT_INITIALIZED');
      }

      // A new master key (other parts): the old versions do not open under it.
      const reloaded = await load((await load(zeroized, ALICE, randomBytes(32))).context, BOB, randomBytes(32));
      for (const [n, version] of versions.entries()) {
        await expectProviderError(provider.unwrap(reloaded.context, version, wrapped[n] ?? Buffer.alloc(0), aad), 'INTEGRITY');
      }
      const fresh = await provider.createVersion(reloaded.context);
      expect((await provider.unwrap(reloaded.context, fresh, await provider.wrap(reloaded.context, fresh, dek, aad), aad)).equals(dek)).toBe(true);
    });

    it('the same parts loaded again restore the same master key: the old ciphertexts open again (KYOK)', async () => {
      const { context, parts } = await activeInstance(provider);
      const before = await provider.masterKey(context);
      const version = await provider.createVersion(context);
      const dek = randomBytes(32);
      const wrapped = await provider.wrap(context, version, dek, aad);
      const zeroized = contextOf(context.instanceId, await provider.zeroizeMasterKey(context));
      const [first, second] = parts;
      const restored = await load((await load(zeroized, CAROL, first ?? Buffer.alloc(0))).context, ALICE, second ?? Buffer.alloc(0));
      expect(restored.info.verificationPattern).toBe(before.verificationPattern);
      expect((await provider.unwrap(restored.context, version, wrapped, aad)).equals(dek)).toBe(true);
    });

    it('zeroize while pending drops the pending parts', async () => {
      const { context } = await load(await created(), ALICE, randomBytes(32));
      const zeroized = await provider.zeroizeMasterKey(context);
      expect(zeroized['parts']).toEqual([]);
      expect(await provider.masterKey(contextOf(context.instanceId, zeroized))).toEqual({
        status: 'uninitialized',
        threshold: 2,
        partsLoaded: 0,
      });
      expect(stored(zeroized)).toEqual(zeroized);
    });
  });
}
