import pkcs11js from 'pkcs11js';
import { describe, expect, it } from 'vitest';
import { HsmError, HsmIntegrityError, HsmKeyNotFoundError, HsmUnavailableError } from '../hsm.js';
import { ManualClock } from '@sealbox/platform';
import { Pkcs11Hsm } from './pkcs11-hsm.js';
import { ModuleRegistry } from './shared-module.js';
import { FakePkcs11Module } from './testing/fake-module.js';

// Session pool, login and recovery logic on a typed fake of the PKCS#11 functions (no token, no
// I/O). Real AES-GCM, key wrap and SoftHSM2's behaviour are covered by the medium tier.

interface SetupOptions {
  pin?: string;
  maxSessions?: number;
  unwrappedKeysPerSession?: number;
  unwrappedKeyMaxAgeMs?: number;
}

function setup(options: SetupOptions = {}) {
  const fake = new FakePkcs11Module('fake');
  const registry = new ModuleRegistry(() => fake);
  const clock = new ManualClock();
  const open = (): Pkcs11Hsm =>
    new Pkcs11Hsm(
      {
        library: '/fake/libpkcs11.so',
        tokenLabel: 'fake',
        pin: options.pin ?? 'good-pin',
        maxSessions: options.maxSessions,
        unwrappedKeysPerSession: options.unwrappedKeysPerSession,
        unwrappedKeyMaxAgeMs: options.unwrappedKeyMaxAgeMs,
        clock,
      },
      registry,
    );
  return { fake, open, clock, hsm: open() };
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

});

describe('Pkcs11Hsm unwrapped keys kept per session (fake module)', () => {
  /** A token key `kek` and `count` blobs wrapped under it. */
  async function wrapped(hsm: Pkcs11Hsm, count = 1): Promise<Buffer[]> {
    await hsm.generateKey('kek');
    const blobs: Buffer[] = [];
    for (let index = 0; index < count; index++) blobs.push(await hsm.generateWrappedKey('kek'));
    return blobs;
  }

  const pair = async (hsm: Pkcs11Hsm, blob: Buffer) => {
    const sealed = await hsm.encrypt({ wrappedBy: 'kek', blob }, Buffer.from('x'));
    return (await hsm.decrypt({ wrappedBy: 'kek', blob }, sealed)).toString();
  };

  it('unwraps a wrapped key once per session and keeps its object for the next calls', async () => {
    const { fake, hsm } = setup({ maxSessions: 1 });
    const [blob] = await wrapped(hsm);
    for (let round = 0; round < 5; round++) expect(await pair(hsm, blob!)).toBe('x');
    expect(count(fake, 'C_UnwrapKeyAsync')).toBe(1);
    expect(fake.sessionObjects()).toBe(1);
    await hsm.close();
    // Gone with its session.
    expect(fake.sessionObjects()).toBe(0);
  });

  it('keeps at most unwrappedKeysPerSession per session, the least recently used going first', async () => {
    const { fake, hsm } = setup({ maxSessions: 1, unwrappedKeysPerSession: 2 });
    const [a, b, c] = await wrapped(hsm, 3);
    await pair(hsm, a!);
    await pair(hsm, b!);
    await pair(hsm, a!); // a is now the most recently used
    expect(count(fake, 'C_UnwrapKeyAsync')).toBe(2);
    await pair(hsm, c!); // evicts b
    expect(fake.sessionObjects()).toBe(2);
    await pair(hsm, a!);
    expect(count(fake, 'C_UnwrapKeyAsync')).toBe(3);
    await pair(hsm, b!);
    expect(count(fake, 'C_UnwrapKeyAsync')).toBe(4);
    expect(fake.sessionObjects()).toBe(2);
    await hsm.close();
  });

  it('unwraps again once a kept key is unwrappedKeyMaxAgeMs old, and destroys the old object', async () => {
    const { fake, hsm, clock } = setup({ maxSessions: 1, unwrappedKeyMaxAgeMs: 1000 });
    const [blob] = await wrapped(hsm);
    await pair(hsm, blob!);
    clock.advance(999);
    await pair(hsm, blob!);
    expect(count(fake, 'C_UnwrapKeyAsync')).toBe(1);
    clock.advance(1);
    await pair(hsm, blob!);
    expect(count(fake, 'C_UnwrapKeyAsync')).toBe(2);
    expect(fake.sessionObjects()).toBe(1);
    await hsm.close();
  });

  it('destroys expired keys of idle sessions without waiting for a call (forget of anything sweeps)', async () => {
    const { fake, hsm, clock } = setup({ maxSessions: 1, unwrappedKeyMaxAgeMs: 1000 });
    const [blob, other] = await wrapped(hsm, 2);
    await pair(hsm, blob!);
    clock.advance(1000);
    await hsm.forget({ wrappedBy: 'kek', blob: other! });
    expect(fake.sessionObjects()).toBe(0);
    await hsm.close();
  });

  it('forget drops a wrapped key at once: an idle session destroys its object now, a busy one when its call ends', async () => {
    const { fake, hsm } = setup({ maxSessions: 1 });
    const [blob, other] = await wrapped(hsm, 2);
    await pair(hsm, blob!);
    await pair(hsm, other!);
    await hsm.forget({ wrappedBy: 'kek', blob: blob! });
    expect(fake.sessionObjects()).toBe(1);
    expect(await pair(hsm, blob!)).toBe('x');
    expect(count(fake, 'C_UnwrapKeyAsync')).toBe(3);

    const inFlight = hsm.encrypt({ wrappedBy: 'kek', blob: blob! }, Buffer.from('busy'));
    await new Promise<void>((resolve) => setImmediate(resolve));
    await hsm.forget({ wrappedBy: 'kek', blob: blob! });
    expect(fake.sessionObjects()).toBe(2);
    await inFlight;
    expect(fake.sessionObjects()).toBe(1);
    await hsm.close();
  });

  it('forget of a wrapping key label drops every key wrapped under it, and only those', async () => {
    const { fake, hsm } = setup({ maxSessions: 1 });
    const [a, b] = await wrapped(hsm, 2);
    await hsm.generateKey('kek-2');
    const foreign = await hsm.generateWrappedKey('kek-2');
    await pair(hsm, a!);
    await pair(hsm, b!);
    await hsm.encrypt({ wrappedBy: 'kek-2', blob: foreign }, Buffer.from('x'));
    expect(fake.sessionObjects()).toBe(3);
    await hsm.forget({ label: 'kek' });
    expect(fake.sessionObjects()).toBe(1);
    await hsm.close();
  });

  it('stops using the kept keys of a wrapping key the moment any backend of the process destroys it', async () => {
    const { fake, hsm, open } = setup({ maxSessions: 1 });
    const [blob] = await wrapped(hsm);
    await pair(hsm, blob!);
    const other = open();
    await other.destroyKey('kek');
    await expect(hsm.encrypt({ wrappedBy: 'kek', blob: blob! }, Buffer.from('x'))).rejects.toBeInstanceOf(HsmKeyNotFoundError);
    expect(fake.sessionObjects()).toBe(0);
    await other.close();
    await hsm.close();
  });

  it('loses the kept keys with the module: after a re-initialization they are unwrapped again', async () => {
    const { fake, hsm } = setup({ maxSessions: 1 });
    const [blob] = await wrapped(hsm);
    await pair(hsm, blob!);
    fake.failNext.set('C_EncryptAsync', pkcs11js.CKR_DEVICE_ERROR);
    await expect(hsm.encrypt({ wrappedBy: 'kek', blob: blob! }, Buffer.from('x'))).rejects.toBeInstanceOf(HsmUnavailableError);
    expect(await pair(hsm, blob!)).toBe('x');
    expect(count(fake, 'C_UnwrapKeyAsync')).toBe(2);
    await hsm.close();
  });

  it('with unwrappedKeysPerSession 0, unwraps and destroys the session object on every call', async () => {
    const { fake, hsm } = setup({ unwrappedKeysPerSession: 0 });
    const [blob] = await wrapped(hsm);
    await pair(hsm, blob!);
    expect(count(fake, 'C_UnwrapKeyAsync')).toBe(2);
    // generated session key + 2 unwrapped keys, all destroyed
    expect(count(fake, 'C_DestroyObject')).toBe(3);
    expect(fake.sessionObjects()).toBe(0);
    expect(fake.tokenObjects()).toBe(1);
    await hsm.close();
  });
});
