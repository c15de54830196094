/**
 * What kms keeps per replica to wrap and unwrap without database reads (`WrapTargets`, the decision
 * cache of `ServiceAuthorizations`, the HSM's unwrapped root key versions), and how fast it lets go:
 * a change made through another replica (a row changed under this one, with or without its event) is
 * refused within `KMS_STATE_MAX_AGE_MS` (< 1 s) on the injected clock, at once with the event, and at
 * once on the replica that made it. SQLite and SoftHSM2 over PKCS#11, key-protect and hpcs.
 */
import type { CloudEvent, RequestOf } from '@sealbox/contracts';
import type { KeyRef } from '@sealbox/hsm';
import { createSoftHsm2Store, SOFTHSM2_LIBRARY, type SoftHsm2Store } from '@sealbox/hsm/testing';
import { dataSourceToken, type DatabaseConfig } from '@sealbox/platform';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AUTHORIZATION_CACHE_TTL_MS } from '../authorization/service-authorizations.js';
import { KMS_STATE_MAX_AGE_MS } from '../domain/state-age.js';
import { InstanceEntity, KeyEntity } from '../persistence/entities.js';
import { startKms, userOf, type KmsHarness } from '../testing/kms-harness.js';
import { WrapTargets } from './wrap-targets.js';

const WRAP_STATE_ENTRIES = 3;

describe('kms wrap state: no database read per call, and let go within 1 s of a change', () => {
  let kms: KmsHarness;
  let dir: string;
  let store: SoftHsm2Store;
  let dataSource: DataSource;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sealbox-kms-wrap-state-'));
    store = await createSoftHsm2Store();
    const token = await store.initToken();
    const database: DatabaseConfig = { type: 'sqlite', path: join(dir, 'kms.sqlite') };
    kms = await startKms({
      database,
      hsm: { backend: 'pkcs11', library: SOFTHSM2_LIBRARY, tokenLabel: token.label, pin: token.pin },
      domain: { wrapStateEntries: WRAP_STATE_ENTRIES },
    });
    dataSource = kms.app.get<DataSource>(dataSourceToken('kms'));
  });

  afterAll(async () => {
    await kms?.close();
    await store?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    kms.allowServices = true;
    vi.restoreAllMocks();
  });

  it('refuses to keep a replica view for 1 s or more', () => {
    expect(KMS_STATE_MAX_AGE_MS).toBeLessThan(1000);
    expect(AUTHORIZATION_CACHE_TTL_MS).toBeLessThan(1000);
  });

  /** An instance (key-protect, or hpcs with its ceremony done), a root key, and a service's wrap/unwrap of one DEK. */
  async function fixture(serviceName: 'kms' | 'hs-crypto' = 'kms') {
    const accountId = randomUUID().replaceAll('-', '');
    const instanceId = randomUUID();
    const user = userOf(accountId, 'IBMid-alice');
    await kms.call('kms.instance.create', { accountId, instanceId, serviceName, region: 'us-south' });
    if (serviceName === 'hs-crypto') {
      await kms.call('kms.api.master-key.load-part', { instanceId, part: randomBytes(32).toString('base64') }, user);
      await kms.call('kms.api.master-key.load-part', { instanceId, part: randomBytes(32).toString('base64') }, userOf(accountId, 'IBMid-bob'));
    }
    const created = await kms.call('kms.api.key.create', { instanceId, resources: [{ name: `key-${randomUUID().slice(0, 8)}`, extractable: false }] }, user);
    const keyId = created.resources[0]?.id ?? '';
    const source = { accountId, serviceName: 'secrets-manager', serviceInstance: randomUUID() };
    const key = { instanceId, keyId };
    const plaintext = randomBytes(32);
    const aad = ['sealbox-envelope-v1:context'];
    const wrapped = await kms.call('kms.key.wrap', { source, key, plaintext, aad });
    const request: RequestOf<'kms.key.unwrap'> = { source, key, ciphertext: wrapped.ciphertext, aad };
    const code = async (): Promise<string> => {
      const failure = await kms.failure('kms.key.unwrap', request).catch(() => undefined);
      return failure?.code ?? 'unwrapped';
    };
    const wrapCode = async (): Promise<string> => {
      const failure = await kms.failure('kms.key.wrap', { source, key, plaintext, aad }).catch(() => undefined);
      return failure?.code ?? 'wrapped';
    };
    return { accountId, instanceId, keyId, user, request, code, wrapCode };
  }

  function event(name: string, data: Record<string, unknown>): CloudEvent {
    return {
      specversion: '1.0',
      id: randomUUID(),
      source: '/sealbox/kms',
      type: `com.sealbox.${name}`,
      time: kms.clock.now().toISOString(),
      datacontenttype: 'application/json',
      data,
    };
  }

  /** The key disabled by another replica: its row changed under this one, nothing else. */
  const disableElsewhere = (accountId: string, keyId: string) => dataSource.manager.update(KeyEntity, { accountId, id: keyId }, { state: 2 });

  it('wraps and unwraps without a database read once the key is known', async () => {
    const f = await fixture();
    const findOne = vi.spyOn(dataSource.manager, 'findOne');
    for (let round = 0; round < 10; round++) {
      expect(await f.code()).toBe('unwrapped');
      expect(await f.wrapCode()).toBe('wrapped');
    }
    expect(findOne).not.toHaveBeenCalled();
    kms.clock.advance(KMS_STATE_MAX_AGE_MS);
    expect(await f.code()).toBe('unwrapped');
    // Read again once old enough: instance, key, current version.
    expect(findOne).toHaveBeenCalledTimes(3);
  });

  it('refuses a key disabled through another replica within KMS_STATE_MAX_AGE_MS, without any event', async () => {
    const f = await fixture();
    await disableElsewhere(f.accountId, f.keyId);
    // The view of this replica is still the active key...
    expect(await f.code()).toBe('unwrapped');
    kms.clock.advance(KMS_STATE_MAX_AGE_MS - 1);
    expect(await f.code()).toBe('unwrapped');
    // ...until it is that old.
    kms.clock.advance(1);
    expect(await f.code()).toBe('KEY_DISABLED');
    expect(await f.wrapCode()).toBe('KEY_DISABLED');
  });

  it.each(['kms.key.disabled', 'kms.key.deleted'])('refuses at once when the %s event of another replica arrives', async (name) => {
    const f = await fixture();
    await dataSource.manager.update(KeyEntity, { accountId: f.accountId, id: f.keyId }, { state: name === 'kms.key.disabled' ? 2 : 5 });
    expect(await f.code()).toBe('unwrapped');
    await kms.eventBus.publish(`events.${name}`, event(name, { accountId: f.accountId, instanceId: f.instanceId, keyId: f.keyId }));
    await expect.poll(() => f.code()).toBe(name === 'kms.key.disabled' ? 'KEY_DISABLED' : 'KEY_DESTROYED');
  });

  it('refuses at once on the replica that disables or deletes the key, and has the HSM forget the key\'s versions', async () => {
    const f = await fixture();
    const forget = vi.spyOn(kms.hsm, 'forget');
    await kms.call('kms.api.key.disable', { instanceId: f.instanceId, id: f.keyId }, f.user);
    expect(await f.code()).toBe('KEY_DISABLED');
    await expect.poll(() => forget.mock.calls.length).toBeGreaterThan(0);
    const forgotten = forget.mock.calls.map(([ref]: [KeyRef]) => ref);
    expect(forgotten.every((ref) => 'blob' in ref && ref.blob.length === 40)).toBe(true);

    await kms.call('kms.api.key.enable', { instanceId: f.instanceId, id: f.keyId }, f.user);
    expect(await f.code()).toBe('unwrapped');
    forget.mockClear();
    await kms.call('kms.api.key.delete', { instanceId: f.instanceId, id: f.keyId }, f.user);
    expect(await f.code()).toBe('KEY_DESTROYED');
    await expect.poll(() => forget.mock.calls.length).toBeGreaterThan(0);
  });

  it('refuses a master key zeroized through another replica within KMS_STATE_MAX_AGE_MS, at once with its event', async () => {
    const f = await fixture('hs-crypto');
    await dataSource.manager.update(InstanceEntity, { accountId: f.accountId, id: f.instanceId }, { masterKeyStatus: 'uninitialized' });
    expect(await f.code()).toBe('unwrapped');
    kms.clock.advance(KMS_STATE_MAX_AGE_MS);
    expect(await f.code()).toBe('INSTANCE_NOT_INITIALIZED');

    const g = await fixture('hs-crypto');
    await dataSource.manager.update(InstanceEntity, { accountId: g.accountId, id: g.instanceId }, { masterKeyStatus: 'uninitialized' });
    const forget = vi.spyOn(kms.hsm, 'forget');
    await kms.eventBus.publish(
      'events.kms.instance.master-key-zeroized',
      event('kms.instance.master-key-zeroized', { accountId: g.accountId, instanceId: g.instanceId }),
    );
    await expect.poll(() => g.code()).toBe('INSTANCE_NOT_INITIALIZED');
    // Everything the HSM kept under the instance master key goes.
    await expect.poll(() => forget.mock.calls.some(([ref]: [KeyRef]) => 'label' in ref && ref.label.endsWith('-mk'))).toBe(true);
  });

  it('refuses at once after a zeroize on this replica: the HSM no longer uses what it kept', async () => {
    const f = await fixture('hs-crypto');
    await kms.call('kms.api.master-key.zeroize', { instanceId: f.instanceId }, f.user);
    expect(await f.code()).toBe('INSTANCE_NOT_INITIALIZED');
  });

  it('refuses a service whose authorization was revoked within AUTHORIZATION_CACHE_TTL_MS, at once on a policy event', async () => {
    const f = await fixture();
    kms.allowServices = false;
    expect(await f.code()).toBe('unwrapped');
    kms.clock.advance(AUTHORIZATION_CACHE_TTL_MS);
    expect(await f.code()).toBe('FORBIDDEN');

    kms.allowServices = true;
    const g = await fixture();
    kms.allowServices = false;
    expect(await g.code()).toBe('unwrapped');
    await kms.eventBus.publish('events.iam.policy.deleted', event('iam.policy.deleted', { accountId: g.accountId, policyId: 'p', type: 'authorization' }));
    await expect.poll(() => g.code()).toBe('FORBIDDEN');
  });

  it(`keeps the state of at most wrapStateEntries keys (${WRAP_STATE_ENTRIES} here)`, async () => {
    const targets = kms.app.get(WrapTargets);
    for (let index = 0; index < WRAP_STATE_ENTRIES + 2; index++) {
      const f = await fixture();
      expect(await f.code()).toBe('unwrapped');
      expect(targets.size).toBeLessThanOrEqual(WRAP_STATE_ENTRIES);
    }
    expect(targets.size).toBe(WRAP_STATE_ENTRIES);
  });

  it('does not keep a read that was in flight when its key changed', async () => {
    const f = await fixture();
    const targets = kms.app.get(WrapTargets);
    targets.clear();
    const reading = targets.find(f.accountId, f.instanceId, f.keyId);
    targets.keyChanged('kms.key.disabled', { accountId: f.accountId, instanceId: f.instanceId, keyId: f.keyId });
    expect((await reading).key?.id).toBe(f.keyId);
    expect(targets.size).toBe(0);
  });
});
