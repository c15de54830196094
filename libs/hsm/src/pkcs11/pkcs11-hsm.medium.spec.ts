import { randomBytes } from 'node:crypto';
import { readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HsmKeyNotFoundError, HsmUnavailableError } from '../hsm.js';
import { describeHsmConformance, referenceDecrypt } from '../testing/hsm-conformance.js';
import { createSoftHsm2Store, SOFTHSM2_LIBRARY, type SoftHsm2Store, type SoftHsm2Token } from '../testing/softhsm2.js';
import { Pkcs11Hsm } from './pkcs11-hsm.js';

// One token directory for the file, created before the module's first C_Initialize in this process.
let storePromise: Promise<SoftHsm2Store> | undefined;
const store = (): Promise<SoftHsm2Store> => (storePromise ??= createSoftHsm2Store());

afterAll(async () => {
  await (await store()).remove();
});

describeHsmConformance('pkcs11 on SoftHSM2', async () => {
  const token = await (await store()).initToken();
  return {
    open: () => new Pkcs11Hsm({ library: SOFTHSM2_LIBRARY, tokenLabel: token.label, pin: token.pin }),
    cleanup: async () => undefined,
  };
});

/**
 * A raw pkcs11js session on the token, to look at what the backend left in it. It shares the
 * process's initialization of the library (C_Initialize answers ALREADY_INITIALIZED) and never
 * finalizes it, unless a test means to pull the module from under the backend.
 */
class RawSession {
  readonly module = new pkcs11js.PKCS11();
  session!: Buffer;

  constructor(private readonly token: SoftHsm2Token) {}

  open(): this {
    this.module.load(SOFTHSM2_LIBRARY);
    try {
      this.module.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (error) {
      if ((error as pkcs11js.Pkcs11Error).code !== pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) throw error;
    }
    const slot = this.module.C_GetSlotList(true).find((candidate) => this.module.C_GetTokenInfo(candidate).label.trim() === this.token.label);
    if (!slot) throw new Error(`no token ${this.token.label}`);
    this.session = this.module.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      this.module.C_Login(this.session, pkcs11js.CKU_USER, this.token.pin);
    } catch (error) {
      if ((error as pkcs11js.Pkcs11Error).code !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) throw error;
    }
    return this;
  }

  find(template: pkcs11js.Template): Buffer[] {
    this.module.C_FindObjectsInit(this.session, template);
    try {
      return this.module.C_FindObjects(this.session, 1000);
    } finally {
      this.module.C_FindObjectsFinal(this.session);
    }
  }

  bool(handle: Buffer, type: number): boolean {
    const [attribute] = this.module.C_GetAttributeValue(this.session, handle, [{ type }]);
    return attribute?.value?.[0] === 1;
  }

  close(): void {
    this.module.C_CloseSession(this.session);
  }
}

describe('Pkcs11Hsm on SoftHSM2', () => {
  let token: SoftHsm2Token;
  let hsm: Pkcs11Hsm;

  beforeAll(async () => {
    token = await (await store()).initToken();
    hsm = new Pkcs11Hsm({ library: SOFTHSM2_LIBRARY, tokenLabel: token.label, pin: token.pin });
    await hsm.open();
  });

  afterAll(async () => {
    await hsm?.close();
  });

  it('keeps token keys sensitive and non-extractable: CKA_VALUE cannot be read', async () => {
    await hsm.generateKey('generated');
    await hsm.importKey('imported', randomBytes(32));
    const raw = new RawSession(token).open();
    try {
      for (const label of ['generated', 'imported']) {
        const [handle] = raw.find([{ type: pkcs11js.CKA_LABEL, value: label }]);
        expect(handle, label).toBeDefined();
        expect(() => raw.module.C_GetAttributeValue(raw.session, handle!, [{ type: pkcs11js.CKA_VALUE }])).toThrow(
          expect.objectContaining({ code: pkcs11js.CKR_ATTRIBUTE_SENSITIVE }),
        );
        expect(raw.bool(handle!, pkcs11js.CKA_TOKEN)).toBe(true);
        expect(raw.bool(handle!, pkcs11js.CKA_SENSITIVE)).toBe(true);
        expect(raw.bool(handle!, pkcs11js.CKA_EXTRACTABLE)).toBe(false);
        expect(raw.bool(handle!, pkcs11js.CKA_PRIVATE)).toBe(true);
        // Nor can it leave wrapped under another key.
        const kek = raw.module.C_GenerateKey(raw.session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
          { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
          { type: pkcs11js.CKA_TOKEN, value: false },
          { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
          { type: pkcs11js.CKA_WRAP, value: true },
        ]);
        expect(() =>
          raw.module.C_WrapKey(raw.session, { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD }, kek, handle!, Buffer.alloc(64)),
        ).toThrow(expect.objectContaining({ code: pkcs11js.CKR_KEY_UNEXTRACTABLE }));
        raw.module.C_DestroyObject(raw.session, kek);
      }
      const [generated] = raw.find([{ type: pkcs11js.CKA_LABEL, value: 'generated' }]);
      expect(raw.bool(generated!, pkcs11js.CKA_NEVER_EXTRACTABLE)).toBe(true);
    } finally {
      raw.close();
    }
  });

  it('leaves no session object behind after wrapped-key calls, failed ones included', async () => {
    await hsm.generateKey('kek-objects');
    const blob = await hsm.generateWrappedKey('kek-objects');
    await hsm.importWrappedKey('kek-objects', randomBytes(32));
    const sealed = await hsm.encrypt({ wrappedBy: 'kek-objects', blob }, Buffer.from('x'));
    await hsm.decrypt({ wrappedBy: 'kek-objects', blob }, sealed);
    const tampered = Buffer.from(sealed);
    tampered[20] = (tampered[20] ?? 0) ^ 1;
    await expect(hsm.decrypt({ wrappedBy: 'kek-objects', blob }, tampered)).rejects.toMatchObject({ code: 'INTEGRITY' });
    const raw = new RawSession(token).open();
    try {
      expect(raw.find([{ type: pkcs11js.CKA_TOKEN, value: false }])).toHaveLength(0);
    } finally {
      raw.close();
    }
  });

  it('decrypts with node:crypto what it encrypted under imported material (CKM_AES_GCM, 96-bit IV, 128-bit tag)', async () => {
    const material = randomBytes(32);
    await hsm.importKey('gcm-proof', Buffer.from(material));
    const sealed = await hsm.encrypt({ label: 'gcm-proof' }, Buffer.from('mechanism check'), Buffer.from('aad'));
    expect(referenceDecrypt(material, sealed, Buffer.from('aad')).toString()).toBe('mechanism check');
  });

  it('answers HsmUnavailableError while the token is gone and works again once it is back', async () => {
    const tokens = await store();
    const before = new Set(await readdir(tokens.tokenDir));
    const outage = await tokens.initToken();
    const [directory] = (await readdir(tokens.tokenDir)).filter((entry) => !before.has(entry));
    expect(directory).toBeDefined();
    const backend = new Pkcs11Hsm({ library: SOFTHSM2_LIBRARY, tokenLabel: outage.label, pin: outage.pin });
    try {
      await backend.generateKey('survivor');
      const sealed = await backend.encrypt({ label: 'survivor' }, Buffer.from('before the outage'));

      const away = join(tokens.tokenDir, '..', `away-${directory}`);
      await rename(join(tokens.tokenDir, directory!), away);
      // The cached key handle dies with the token; a fresh lookup must not pass for "no such key".
      await expect(backend.decrypt({ label: 'survivor' }, sealed)).rejects.toBeInstanceOf(HsmUnavailableError);
      await expect(backend.hasKey('survivor')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      await expect(backend.encrypt({ label: 'survivor' }, Buffer.from('x'))).rejects.toBeInstanceOf(HsmUnavailableError);
      await expect(backend.destroyKey('survivor')).rejects.toBeInstanceOf(HsmUnavailableError);

      await rename(away, join(tokens.tokenDir, directory!));
      expect((await backend.decrypt({ label: 'survivor' }, sealed)).toString()).toBe('before the outage');
      expect(await backend.hasKey('survivor')).toBe(true);
      // The other backend of the process (another token) recovered too.
      expect(await hsm.hasKey('generated')).toBe(true);
    } finally {
      await backend.close();
    }
  });

  it('recovers when the module is finalized under it', async () => {
    await hsm.generateKey('after-finalize');
    const sealed = await hsm.encrypt({ label: 'after-finalize' }, Buffer.from('kept'));
    const raw = new RawSession(token).open();
    raw.module.C_Finalize();
    await expect(hsm.decrypt({ label: 'after-finalize' }, sealed)).rejects.toBeInstanceOf(HsmUnavailableError);
    expect((await hsm.decrypt({ label: 'after-finalize' }, sealed)).toString()).toBe('kept');
  });

  it('finds a token initialized after the module was', async () => {
    const label = `late-${randomBytes(4).toString('hex')}`;
    const backend = new Pkcs11Hsm({ library: SOFTHSM2_LIBRARY, tokenLabel: label, pin: '12345678' });
    try {
      await expect(backend.hasKey('k')).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining(label) });
      const late = await (await store()).initToken(label);
      const fresh = new Pkcs11Hsm({ library: SOFTHSM2_LIBRARY, tokenLabel: label, pin: late.pin });
      try {
        await fresh.generateKey('k');
        expect(await fresh.hasKey('k')).toBe(true);
      } finally {
        await fresh.close();
      }
    } finally {
      await backend.close();
    }
  });

  it('answers HsmUnavailableError for a refused PIN and for a library that cannot load', async () => {
    const wrongPin = new Pkcs11Hsm({ library: SOFTHSM2_LIBRARY, tokenLabel: token.label, pin: 'not-the-pin' });
    try {
      await expect(wrongPin.open()).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/refused the configured PIN/) });
      await expect(wrongPin.hasKey('generated')).rejects.toBeInstanceOf(HsmUnavailableError);
    } finally {
      await wrongPin.close();
    }
    const missing = new Pkcs11Hsm({ library: '/nonexistent/libpkcs11.so', tokenLabel: token.label, pin: token.pin });
    try {
      await expect(missing.hasKey('generated')).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/cannot load/) });
    } finally {
      await missing.close();
    }
    // The good backend is not disturbed by either.
    expect(await hsm.hasKey('generated')).toBe(true);
  });

  it('notices a cached key handle destroyed behind its back and finds the key now under that label', async () => {
    await hsm.generateKey('cached');
    await hsm.encrypt({ label: 'cached' }, Buffer.from('caches the handle'));
    const material = randomBytes(32);
    const raw = new RawSession(token).open();
    try {
      const [old] = raw.find([{ type: pkcs11js.CKA_LABEL, value: 'cached' }]);
      raw.module.C_DestroyObject(raw.session, old!);
      raw.module.C_CreateObject(raw.session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_LABEL, value: 'cached' },
        { type: pkcs11js.CKA_ENCRYPT, value: true },
        { type: pkcs11js.CKA_DECRYPT, value: true },
        { type: pkcs11js.CKA_VALUE, value: material },
      ]);
    } finally {
      raw.close();
    }
    const sealed = await hsm.encrypt({ label: 'cached' }, Buffer.from('new key'));
    expect(referenceDecrypt(material, sealed).toString()).toBe('new key');

    const again = new RawSession(token).open();
    try {
      const [current] = again.find([{ type: pkcs11js.CKA_LABEL, value: 'cached' }]);
      again.module.C_DestroyObject(again.session, current!);
    } finally {
      again.close();
    }
    await expect(hsm.encrypt({ label: 'cached' }, Buffer.from('x'))).rejects.toBeInstanceOf(HsmKeyNotFoundError);
  });
});
