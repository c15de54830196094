import { DomainError } from '@sealbox/platform';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSoftHsm2Store, SOFTHSM2_LIBRARY, type SoftHsm2Store, type SoftHsm2Token } from '../testing/softhsm2.js';
import { Pkcs11Hsm } from './pkcs11-hsm.js';
import { pkcs11SealOptionsFrom, pkcs11SealToken } from './seal-token.js';

/** The seal's PKCS#11 token adapter on a real SoftHSM2 token: the key, AES-GCM inside, the failures as seal codes. */

let store: SoftHsm2Store;
let token: SoftHsm2Token;

beforeAll(async () => {
  // Before the first C_Initialize of this process (SoftHSM2 reads its configuration then).
  store = await createSoftHsm2Store();
  token = await store.initToken();
});
afterAll(async () => {
  await store?.remove();
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
  throw new Error('expected a DomainError');
}

describe('pkcs11SealToken on SoftHSM2', () => {
  it('creates the seal key once in the token, encrypts inside it (AES-GCM, AAD bound) and reports failures with the seal codes', async () => {
    const seal = pkcs11SealToken({ library: SOFTHSM2_LIBRARY, tokenLabel: token.label, pin: token.pin });
    expect(await codeOf(seal.encrypt('seal-key', Buffer.alloc(32), Buffer.from('aad')))).toBe('SEAL_TOKEN_KEY_NOT_FOUND');
    await seal.ensureKey('seal-key');
    await seal.ensureKey('seal-key');
    const kek = randomBytes(32);
    const wrapped = await seal.encrypt('seal-key', kek, Buffer.from('aad'));
    expect(wrapped).toHaveLength(12 + 32 + 16);
    expect(wrapped.includes(kek)).toBe(false);
    expect((await seal.decrypt('seal-key', wrapped, Buffer.from('aad'))).equals(kek)).toBe(true);
    expect(await codeOf(seal.decrypt('seal-key', wrapped, Buffer.from('other aad')))).toBe('UNSEAL_FAILED');

    // One key under that label, made by the backend's token-key template (non-extractable: see pkcs11-hsm.medium.spec.ts).
    const hsm = new Pkcs11Hsm({ library: SOFTHSM2_LIBRARY, tokenLabel: token.label, pin: token.pin });
    try {
      expect(await hsm.hasKey('seal-key')).toBe(true);
      await hsm.generateKey('other-key');
    } finally {
      await hsm.close();
    }
    expect(await codeOf(seal.decrypt('other-key', wrapped, Buffer.from('aad')))).toBe('UNSEAL_FAILED');

    const wrongPin = pkcs11SealToken({ library: SOFTHSM2_LIBRARY, tokenLabel: token.label, pin: `${token.pin}0` });
    expect(await codeOf(wrongPin.decrypt('seal-key', wrapped, Buffer.from('aad')))).toBe('SEAL_TOKEN_UNAVAILABLE');
    const noToken = pkcs11SealToken({ library: SOFTHSM2_LIBRARY, tokenLabel: 'no-such-token', pin: token.pin });
    expect(await codeOf(noToken.decrypt('seal-key', wrapped, Buffer.from('aad')))).toBe('SEAL_TOKEN_UNAVAILABLE');
  });

  it('reads the PIN only from a private file, and needs it with a token label', () => {
    const base = { SEALBOX_SEAL_PKCS11_LIBRARY: SOFTHSM2_LIBRARY, SEALBOX_SEAL_PKCS11_KEY_LABEL: 'seal-key' };
    expect(pkcs11SealOptionsFrom({ ...base, SEALBOX_SEAL_PKCS11_TOKEN_LABEL: undefined, SEALBOX_SEAL_PKCS11_PIN_FILE: undefined })).toBeUndefined();
    expect(() => pkcs11SealOptionsFrom({ ...base, SEALBOX_SEAL_PKCS11_TOKEN_LABEL: token.label, SEALBOX_SEAL_PKCS11_PIN_FILE: undefined })).toThrow(
      'SEALBOX_SEAL_PKCS11_PIN_FILE',
    );
    const open = join(store.tokenDir, '..', 'pin-open');
    writeFileSync(open, token.pin, { mode: 0o644 });
    expect(() => pkcs11SealOptionsFrom({ ...base, SEALBOX_SEAL_PKCS11_TOKEN_LABEL: token.label, SEALBOX_SEAL_PKCS11_PIN_FILE: open })).toThrow('chmod 600');
    const closed = join(store.tokenDir, '..', 'pin');
    writeFileSync(closed, `${token.pin}\n`, { mode: 0o600 });
    const options = pkcs11SealOptionsFrom({ ...base, SEALBOX_SEAL_PKCS11_TOKEN_LABEL: token.label, SEALBOX_SEAL_PKCS11_PIN_FILE: closed });
    expect(options).toMatchObject({ keyLabel: 'seal-key', token: { tokenLabel: token.label } });
    expect(JSON.stringify(options)).not.toContain(token.pin);
  });
});
