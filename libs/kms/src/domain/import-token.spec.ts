import { ManualClock } from '@sealbox/platform';
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { thrown } from '../testing/expect-code.js';
import { secureImportFields } from '../testing/token-import.js';
import { generateImportKeyPair, openTokenImport, requireRetrievable, requireUnexpired, type ImportKeyPair } from './import-token.js';

let pair: ImportKeyPair;
let otherPair: ImportKeyPair;

beforeAll(async () => {
  [pair, otherPair] = await Promise.all([generateImportKeyPair(2048), generateImportKeyPair(2048)]);
});

const token = () => ({ publicKeyPem: pair.publicKeyPem, nonce: pair.nonce });

describe('import token lifecycle', () => {
  it('is usable until it expires (409 IMPORT_TOKEN_EXPIRED from then on)', () => {
    const clock = new ManualClock();
    const state = { expiresAt: clock.nowMs() + 600_000, remainingRetrievals: 1 };
    clock.advance(599_999);
    expect(() => requireUnexpired(state, clock.nowMs())).not.toThrow();
    expect(() => requireRetrievable(state, clock.nowMs())).not.toThrow();
    clock.advance(1);
    thrown(() => requireUnexpired(state, clock.nowMs()), 'IMPORT_TOKEN_EXPIRED');
    thrown(() => requireRetrievable(state, clock.nowMs()), 'IMPORT_TOKEN_EXPIRED');
  });

  it('is retrievable while retrievals remain (409 IMPORT_TOKEN_EXHAUSTED after)', () => {
    thrown(() => requireRetrievable({ expiresAt: 10, remainingRetrievals: 0 }, 0), 'IMPORT_TOKEN_EXHAUSTED');
  });

  it('is an RSA key pair of the requested size and a 16-byte nonce', () => {
    const publicKey = createPublicKey(pair.publicKeyPem);
    expect(publicKey.asymmetricKeyType).toBe('rsa');
    expect(publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(pair.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(pair.nonce).toHaveLength(16);
    expect(pair.nonce.equals(otherPair.nonce)).toBe(false);
  });
});

describe('secure import with the token', () => {
  it('recovers the key material (RSA-OAEP SHA-256 by default, SHA-1 on request)', () => {
    const material = randomBytes(32);
    expect(openTokenImport(secureImportFields(material, token()), pair.privateKeyDer, pair.nonce).equals(material)).toBe(true);
    const sha1 = { ...secureImportFields(material, token(), { hash: 'sha1' }), encryptionAlgorithm: 'RSAES_OAEP_SHA_1' as const };
    expect(openTokenImport(sha1, pair.privateKeyDer, pair.nonce).equals(material)).toBe(true);
  });

  it('refuses a payload under another token, or another OAEP hash, with 400 INVALID_KEY_MATERIAL', () => {
    const material = randomBytes(32);
    const foreign = secureImportFields(material, { publicKeyPem: otherPair.publicKeyPem, nonce: pair.nonce });
    expect(thrown(() => openTokenImport(foreign, pair.privateKeyDer, pair.nonce), 'INVALID_KEY_MATERIAL').message).toContain('does not decrypt');
    const sha1WithoutSaying = secureImportFields(material, token(), { hash: 'sha1' });
    thrown(() => openTokenImport(sha1WithoutSaying, pair.privateKeyDer, pair.nonce), 'INVALID_KEY_MATERIAL');
  });

  it('refuses key material that is not 32 bytes', () => {
    // A well-formed nonce proof, and a payload carrying 16 bytes.
    const payload = publicEncrypt({ key: pair.publicKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, randomBytes(16));
    const fields = { ...secureImportFields(randomBytes(32), token()), payload: payload.toString('base64') };
    expect(thrown(() => openTokenImport(fields, pair.privateKeyDer, pair.nonce), 'INVALID_KEY_MATERIAL').message).toContain('exactly 32 bytes');
  });

  it('refuses a nonce encrypted under other material, another nonce, or altered (proof of possession)', () => {
    const material = randomBytes(32);
    const good = secureImportFields(material, token());
    const otherMaterial = secureImportFields(randomBytes(32), token());
    const otherNonce = secureImportFields(material, { publicKeyPem: pair.publicKeyPem, nonce: randomBytes(16) });
    const altered = Buffer.from(good.encryptedNonce, 'base64');
    altered[0] = (altered[0] ?? 0) ^ 1;
    for (const fields of [
      { ...good, encryptedNonce: otherMaterial.encryptedNonce, iv: otherMaterial.iv },
      { ...good, encryptedNonce: otherNonce.encryptedNonce, iv: otherNonce.iv },
      { ...good, encryptedNonce: altered.toString('base64') },
      { ...good, iv: randomBytes(12).toString('base64') },
    ]) {
      expect(thrown(() => openTokenImport(fields, pair.privateKeyDer, pair.nonce), 'INVALID_KEY_MATERIAL').message).toContain('encryptedNonce');
    }
  });

  it.each([
    ['a payload that is not base64', { payload: 'not base64!' }],
    ['an iv of 16 bytes', { iv: randomBytes(16).toString('base64') }],
    ['an iv that is not base64', { iv: '***' }],
    ['an encryptedNonce shorter than a tag', { encryptedNonce: randomBytes(16).toString('base64') }],
    ['an encryptedNonce that is not base64', { encryptedNonce: '%%%%' }],
  ])('refuses %s with 400 INVALID_KEY_MATERIAL', (_, change) => {
    const fields = { ...secureImportFields(randomBytes(32), token()), ...change };
    thrown(() => openTokenImport(fields, pair.privateKeyDer, pair.nonce), 'INVALID_KEY_MATERIAL');
  });
});
