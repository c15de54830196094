import pkcs11js from 'pkcs11js';
import { describe, expect, it } from 'vitest';
import { HsmError, HsmIntegrityError, HsmKeyNotFoundError, HsmUnavailableError } from '../hsm.js';
import { Pkcs11Hsm } from './pkcs11-hsm.js';
import { ModuleRegistry } from './shared-module.js';
import { FakePkcs11Module } from './testing/fake-module.js';

// Session pool, login and recovery logic on a typed fake of the PKCS#11 functions (no token, no
// I/O). Real AES-GCM, key wrap and SoftHSM2's behaviour are covered by the medium tier.

function setup(options: { pin?: string; maxSessions?: number } = {}) {
  const fake = new FakePkcs11Module('fake');
  const registry = new ModuleRegistry(() => fake);
  const open = (): Pkcs11Hsm =>
    new Pkcs11Hsm({ library: '/fake/libpkcs11.so', tokenLabel: 'fake', pin: options.pin ?? 'good-pin', maxSessions: options.maxSessions }, registry);
  return { fake, open, hsm: open() };
}

const count = (fake: FakePkcs11Module, method: Parameters<FakePkcs11Module['calls']['get']>[0]): number => fake.calls.get(method) ?? 0;

describe('Pkcs11Hsm session pool and recovery (fake module)', () => {
  it('runs concurrent calls on at most maxSessions sessions, each call on a session of its own', async () => {
    const { fake, hsm } = setup({ maxSessions: 3 });
    await hsm.generateKey('k');
    const results = await Promise.all(Array.from({ length: 50 }, (_, index) => hsm.encrypt({ label: 'k' }, Buffer.from(`m${index}`))));
    expect(results).toHaveLength(50);
    // 3 operation sessions + the anchor session that holds the login.
    expect(fake.maxOpenSessions).toBe(4);
    expect(fake.maxActiveOperations).toBe(3);
    expect(count(fake, 'C_Login')).toBe(1);
    await hsm.close();
  });

  it('logs in once per generation and keeps the login while operation sessions come and go', async () => {
    const { fake, hsm } = setup();
    await hsm.generateKey('k');
    const sealed = await hsm.encrypt({ label: 'k' }, Buffer.from('x'));
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1] = 1;
    // The failed session is closed (an operation may be left active on it); the anchor keeps the user logged in.
    await expect(hsm.decrypt({ label: 'k' }, tampered)).rejects.toBeInstanceOf(HsmIntegrityError);
    expect(fake.loggedIn).toBe(true);
    expect((await hsm.decrypt({ label: 'k' }, sealed)).toString()).toBe('x');
    expect(count(fake, 'C_CloseSession')).toBe(1);
    expect(count(fake, 'C_Login')).toBe(1);
    await hsm.close();
  });

  it('never retries a refused PIN (a real HSM would lock it)', async () => {
    const { fake, hsm } = setup({ pin: 'wrong-pin' });
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await expect(hsm.hasKey('k')).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/CKR_PIN_INCORRECT/) });
    }
    expect(count(fake, 'C_Login')).toBe(1);
    expect(fake.openSessions.size).toBe(0);
    await hsm.close();
  });

  it('answers HsmUnavailableError on a device error, then re-initializes the module and carries on', async () => {
    const { fake, hsm } = setup();
    await hsm.generateKey('k');
    fake.failNext.set('C_EncryptAsync', pkcs11js.CKR_DEVICE_ERROR);
    await expect(hsm.encrypt({ label: 'k' }, Buffer.from('x'))).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/CKR_DEVICE_ERROR/),
    });
    expect(count(fake, 'C_Finalize')).toBe(1);
    expect((await hsm.encrypt({ label: 'k' }, Buffer.from('x'))).length).toBe(12 + 1 + 16);
    expect(count(fake, 'C_Initialize')).toBe(2);
    expect(count(fake, 'C_Login')).toBe(2);
    await hsm.close();
  });

  it('lets the calls in progress finish before finalizing, and finalizes once', async () => {
    const { fake, hsm } = setup({ maxSessions: 4 });
    await hsm.generateKey('k');
    fake.failNext.set('C_EncryptAsync', pkcs11js.CKR_SESSION_HANDLE_INVALID);
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => hsm.encrypt({ label: 'k' }, Buffer.from('x'))));
    const failed = results.filter((result) => result.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect((failed[0] as PromiseRejectedResult).reason).toBeInstanceOf(HsmUnavailableError);
    expect(fake.usedWhileFinalized).toBe(false);
    expect(count(fake, 'C_Finalize')).toBe(1);
    await hsm.close();
  });

  it('does not take a vanished token for a missing key', async () => {
    const { fake, hsm } = setup();
    await hsm.generateKey('k');
    fake.tokenGone = true;
    await expect(hsm.hasKey('other')).rejects.toBeInstanceOf(HsmUnavailableError);
    fake.tokenGone = false;
    expect(await hsm.hasKey('other')).toBe(false);
    await expect(hsm.encrypt({ label: 'other' }, Buffer.from('x'))).rejects.toBeInstanceOf(HsmKeyNotFoundError);
    await hsm.close();
  });

  it('retries a library that could not load on the next call', async () => {
    const { fake, hsm } = setup();
    fake.loadFails = true;
    await expect(hsm.hasKey('k')).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/cannot load/) });
    fake.loadFails = false;
    expect(await hsm.hasKey('k')).toBe(false);
    await hsm.close();
  });

  it('reports an unexpected PKCS#11 answer as a plain HsmError naming it', async () => {
    const { fake, hsm } = setup();
    await hsm.generateKey('k');
    fake.failNext.set('C_EncryptInit', pkcs11js.CKR_MECHANISM_INVALID);
    const failure = await hsm.encrypt({ label: 'k' }, Buffer.from('x')).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(HsmError);
    expect(failure).toMatchObject({ code: 'FAILED', message: expect.stringMatching(/CKR_MECHANISM_INVALID/) });
    expect(count(fake, 'C_Finalize')).toBe(0);
    await hsm.close();
  });

  it('shares one initialization between backends and finalizes after the last one closes', async () => {
    const { fake, hsm, open } = setup();
    const other = open();
    await hsm.generateKey('k');
    expect(await other.hasKey('k')).toBe(true);
    expect(count(fake, 'C_Initialize')).toBe(1);
    await hsm.close();
    expect(fake.initialized).toBe(true);
    expect(await other.hasKey('k')).toBe(true);
    await other.close();
    expect(fake.initialized).toBe(false);
    expect(fake.openSessions.size).toBe(0);
    await expect(other.hasKey('k')).rejects.toBeInstanceOf(HsmUnavailableError);
  });

  it('destroys the session objects of wrapped keys after use', async () => {
    const { fake, hsm } = setup();
    await hsm.generateKey('kek');
    const blob = await hsm.generateWrappedKey('kek');
    const sealed = await hsm.encrypt({ wrappedBy: 'kek', blob }, Buffer.from('x'));
    await hsm.decrypt({ wrappedBy: 'kek', blob }, sealed);
    expect(count(fake, 'C_UnwrapKeyAsync')).toBe(2);
    // generated session key + 2 unwrapped keys, all destroyed
    expect(count(fake, 'C_DestroyObject')).toBe(3);
    expect(fake.tokenObjects()).toBe(1);
    await hsm.close();
  });
});
