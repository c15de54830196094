/**
 * ONE conformance suite for the HSM port: a backend is "done" when it passes it. Run against the
 * soft emulator (unit tier, a temp directory is its own storage) and against PKCS#11 on SoftHSM2
 * (medium tier, a temp token). Every test uses labels of its own, so the tests share one backend.
 *
 * Lives under src/testing/ so the library build never ships it.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AES_256_KEY_BYTES,
  GCM_NONCE_BYTES,
  GCM_TAG_BYTES,
  HsmIntegrityError,
  HsmInvalidArgumentError,
  HsmKeyExistsError,
  HsmKeyNotFoundError,
  HsmUnavailableError,
  MAX_LABEL_LENGTH,
  WRAPPED_KEY_BYTES,
  type Hsm,
  type KeyRef,
} from '../hsm.js';

/** What a backend provides to the suite. */
export interface HsmUnderTest {
  /** A NEW backend instance over the suite's storage (directory, token): every call gives another. */
  open(): Hsm;
  /** Remove the storage; called once every instance the suite opened is closed. */
  cleanup(): Promise<void>;
}

export type HsmFactory = () => HsmUnderTest | Promise<HsmUnderTest>;

const RFC5649_IV = Buffer.from('a65959a6', 'hex');

/** Reference AES-256-GCM in node:crypto, in the port's format `nonce || ciphertext || tag`. */
export function referenceEncrypt(key: Buffer, plaintext: Buffer, aad?: Buffer): Buffer {
  const nonce = randomBytes(GCM_NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  if (aad) cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

export function referenceDecrypt(key: Buffer, sealed: Buffer, aad?: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, GCM_NONCE_BYTES), { authTagLength: GCM_TAG_BYTES });
  decipher.setAuthTag(sealed.subarray(sealed.length - GCM_TAG_BYTES));
  if (aad) decipher.setAAD(aad);
  return Buffer.concat([decipher.update(sealed.subarray(GCM_NONCE_BYTES, sealed.length - GCM_TAG_BYTES)), decipher.final()]);
}

/** Reference RFC 5649 wrap / unwrap of key material in node:crypto. */
export function referenceWrap(kek: Buffer, material: Buffer): Buffer {
  const cipher = createCipheriv('id-aes256-wrap-pad', kek, RFC5649_IV);
  return Buffer.concat([cipher.update(material), cipher.final()]);
}

export function referenceUnwrap(kek: Buffer, blob: Buffer): Buffer {
  const decipher = createDecipheriv('id-aes256-wrap-pad', kek, RFC5649_IV);
  return Buffer.concat([decipher.update(blob), decipher.final()]);
}

function flipBit(data: Buffer, index: number, bit = 0): Buffer {
  const copy = Buffer.from(data);
  copy[index] = (copy[index] ?? 0) ^ (1 << bit);
  return copy;
}

export function describeHsmConformance(name: string, factory: HsmFactory): void {
  describe(`HSM conformance: ${name}`, () => {
    let target: HsmUnderTest;
    let hsm: Hsm;
    const opened: Hsm[] = [];

    const open = (): Hsm => {
      const instance = target.open();
      opened.push(instance);
      return instance;
    };
    const label = (purpose: string): string => `conf-${purpose}-${randomUUID().slice(0, 8)}`;
    const material = (): Buffer => randomBytes(AES_256_KEY_BYTES);

    beforeAll(async () => {
      target = await factory();
      hsm = open();
    });

    afterAll(async () => {
      for (const instance of opened) await instance.close();
      await target?.cleanup();
    });

    describe('token keys', () => {
      it('generates a key, finds it, destroys it', async () => {
        const key = label('gen');
        expect(await hsm.hasKey(key)).toBe(false);
        await hsm.generateKey(key);
        expect(await hsm.hasKey(key)).toBe(true);
        const sealed = await hsm.encrypt({ label: key }, Buffer.from('payload'));
        expect((await hsm.decrypt({ label: key }, sealed)).toString()).toBe('payload');
        await hsm.destroyKey(key);
        expect(await hsm.hasKey(key)).toBe(false);
        await expect(hsm.decrypt({ label: key }, sealed)).rejects.toBeInstanceOf(HsmKeyNotFoundError);
        await expect(hsm.destroyKey(key)).rejects.toBeInstanceOf(HsmKeyNotFoundError);
      });

      it('refuses a label that is taken, by generate or import, and keeps the first key', async () => {
        const key = label('dup');
        await hsm.generateKey(key);
        const sealed = await hsm.encrypt({ label: key }, Buffer.from('first'));
        await expect(hsm.generateKey(key)).rejects.toBeInstanceOf(HsmKeyExistsError);
        await expect(hsm.importKey(key, material())).rejects.toMatchObject({ code: 'KEY_EXISTS' });
        expect((await hsm.decrypt({ label: key }, sealed)).toString()).toBe('first');

        const imported = label('dup-imported');
        await hsm.importKey(imported, material());
        await expect(hsm.generateKey(imported)).rejects.toBeInstanceOf(HsmKeyExistsError);
      });

      it('lets exactly one of concurrent creations of one label win', async () => {
        const key = label('race');
        const results = await Promise.allSettled([
          hsm.generateKey(key),
          hsm.importKey(key, material()),
          hsm.generateKey(key),
          hsm.importKey(key, material()),
        ]);
        expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
        for (const result of results) {
          if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(HsmKeyExistsError);
        }
      });

      it('answers HsmKeyNotFoundError for an unknown label everywhere', async () => {
        const unknown = label('unknown');
        await expect(hsm.encrypt({ label: unknown }, Buffer.from('x'))).rejects.toBeInstanceOf(HsmKeyNotFoundError);
        await expect(hsm.decrypt({ label: unknown }, Buffer.alloc(40))).rejects.toMatchObject({ code: 'KEY_NOT_FOUND' });
        await expect(hsm.generateWrappedKey(unknown)).rejects.toBeInstanceOf(HsmKeyNotFoundError);
        await expect(hsm.importWrappedKey(unknown, material())).rejects.toBeInstanceOf(HsmKeyNotFoundError);
        const blob = Buffer.alloc(WRAPPED_KEY_BYTES, 1);
        await expect(hsm.encrypt({ wrappedBy: unknown, blob }, Buffer.from('x'))).rejects.toBeInstanceOf(HsmKeyNotFoundError);
        await expect(hsm.destroyKey(unknown)).rejects.toBeInstanceOf(HsmKeyNotFoundError);
      });

      it('requires exactly 32 bytes of key material', async () => {
        const kek = label('len-kek');
        await hsm.generateKey(kek);
        for (const length of [0, 16, 24, 31, 33, 64]) {
          const key = label(`len-${length}`);
          await expect(hsm.importKey(key, randomBytes(length))).rejects.toBeInstanceOf(HsmInvalidArgumentError);
          await expect(hsm.importWrappedKey(kek, randomBytes(length))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
          expect(await hsm.hasKey(key)).toBe(false);
        }
      });

      it('refuses empty, over-long and control-character labels', async () => {
        for (const bad of ['', 'x'.repeat(MAX_LABEL_LENGTH + 1), 'line\nbreak']) {
          await expect(hsm.generateKey(bad)).rejects.toBeInstanceOf(HsmInvalidArgumentError);
          await expect(hsm.hasKey(bad)).rejects.toBeInstanceOf(HsmInvalidArgumentError);
          await expect(hsm.encrypt({ label: bad }, Buffer.from('x'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
        }
        const longest = 'y'.repeat(MAX_LABEL_LENGTH - 9) + randomUUID().slice(0, 9);
        await hsm.generateKey(longest);
        expect(await hsm.hasKey(longest)).toBe(true);
      });
    });

    describe('encrypt / decrypt', () => {
      it('round-trips with an imported key, with and without AAD, empty and large plaintexts', async () => {
        const key = label('rt');
        await hsm.importKey(key, material());
        const aad = Buffer.from('crn:v1:instance/secret/version');
        for (const plaintext of [Buffer.alloc(0), Buffer.from('hello'), randomBytes(32), randomBytes(64 * 1024)]) {
          const sealed = await hsm.encrypt({ label: key }, plaintext, aad);
          expect(sealed.length).toBe(GCM_NONCE_BYTES + plaintext.length + GCM_TAG_BYTES);
          expect((await hsm.decrypt({ label: key }, sealed, aad)).equals(plaintext)).toBe(true);
          const bare = await hsm.encrypt({ label: key }, plaintext);
          expect((await hsm.decrypt({ label: key }, bare)).equals(plaintext)).toBe(true);
        }
      });

      it('uses a fresh nonce every time', async () => {
        const key = label('nonce');
        await hsm.generateKey(key);
        const plaintext = Buffer.from('same plaintext');
        const first = await hsm.encrypt({ label: key }, plaintext);
        const second = await hsm.encrypt({ label: key }, plaintext);
        expect(first.subarray(0, GCM_NONCE_BYTES).equals(second.subarray(0, GCM_NONCE_BYTES))).toBe(false);
        expect(first.equals(second)).toBe(false);
      });

      it('refuses a ciphertext of another key', async () => {
        const one = label('one');
        const other = label('other');
        await hsm.generateKey(one);
        await hsm.importKey(other, material());
        const sealed = await hsm.encrypt({ label: one }, Buffer.from('for one only'));
        await expect(hsm.decrypt({ label: other }, sealed)).rejects.toBeInstanceOf(HsmIntegrityError);
      });

      it('refuses a flipped bit anywhere: nonce, body, tag', async () => {
        const key = label('flip');
        await hsm.generateKey(key);
        const aad = Buffer.from('context');
        const sealed = await hsm.encrypt({ label: key }, Buffer.from('sixteen bytes!!!'), aad);
        for (let index = 0; index < sealed.length; index += 1) {
          await expect(hsm.decrypt({ label: key }, flipBit(sealed, index, index % 8), aad), `byte ${index}`).rejects.toBeInstanceOf(
            HsmIntegrityError,
          );
        }
        // The original still opens: the failures left the backend usable.
        expect((await hsm.decrypt({ label: key }, sealed, aad)).toString()).toBe('sixteen bytes!!!');
      });

      it('refuses truncated, extended and too-short ciphertexts', async () => {
        const key = label('trunc');
        await hsm.generateKey(key);
        const sealed = await hsm.encrypt({ label: key }, Buffer.from('payload'));
        for (const bad of [
          sealed.subarray(0, sealed.length - 1),
          Buffer.concat([sealed, Buffer.from([0])]),
          sealed.subarray(0, GCM_NONCE_BYTES + GCM_TAG_BYTES - 1),
          Buffer.alloc(0),
        ]) {
          await expect(hsm.decrypt({ label: key }, bad)).rejects.toMatchObject({ code: 'INTEGRITY' });
        }
      });

      it('refuses the wrong AAD, a missing AAD and an added AAD', async () => {
        const key = label('aad');
        await hsm.generateKey(key);
        const aad = Buffer.from('instance-a/secret-1/version-1');
        const sealed = await hsm.encrypt({ label: key }, Buffer.from('bound'), aad);
        await expect(hsm.decrypt({ label: key }, sealed, Buffer.from('instance-b/secret-1/version-1'))).rejects.toBeInstanceOf(
          HsmIntegrityError,
        );
        await expect(hsm.decrypt({ label: key }, sealed)).rejects.toBeInstanceOf(HsmIntegrityError);
        const unbound = await hsm.encrypt({ label: key }, Buffer.from('unbound'));
        await expect(hsm.decrypt({ label: key }, unbound, aad)).rejects.toBeInstanceOf(HsmIntegrityError);
      });

      it('is AES-256-GCM: imported material gives what node:crypto gives, both ways', async () => {
        const key = label('ref');
        const raw = material();
        await hsm.importKey(key, raw);
        const aad = Buffer.from('aad');
        const plaintext = randomBytes(100);
        const fromHsm = await hsm.encrypt({ label: key }, plaintext, aad);
        expect(referenceDecrypt(raw, fromHsm, aad).equals(plaintext)).toBe(true);
        const fromNode = referenceEncrypt(raw, plaintext, aad);
        expect((await hsm.decrypt({ label: key }, fromNode, aad)).equals(plaintext)).toBe(true);
      });
    });

    describe('wrapped keys', () => {
      it('generates wrapped keys (40-byte blobs, all different) usable through {wrappedBy, blob}', async () => {
        const kek = label('kek');
        await hsm.generateKey(kek);
        const blob = await hsm.generateWrappedKey(kek);
        const another = await hsm.generateWrappedKey(kek);
        expect(blob.length).toBe(WRAPPED_KEY_BYTES);
        expect(blob.equals(another)).toBe(false);
        const key: KeyRef = { wrappedBy: kek, blob };
        const aad = Buffer.from('dek-context');
        const sealed = await hsm.encrypt(key, Buffer.from('data key'), aad);
        expect((await hsm.decrypt(key, sealed, aad)).toString()).toBe('data key');
        await expect(hsm.decrypt({ wrappedBy: kek, blob: another }, sealed, aad)).rejects.toBeInstanceOf(HsmIntegrityError);
        await expect(hsm.decrypt({ label: kek }, sealed, aad)).rejects.toBeInstanceOf(HsmIntegrityError);
      });

      it('wraps imported material: RFC 5649 blobs and AES-256-GCM as node:crypto computes them', async () => {
        const kek = label('kek-imp');
        const kekMaterial = material();
        await hsm.importKey(kek, kekMaterial);
        const raw = material();
        const blob = await hsm.importWrappedKey(kek, raw);
        expect(blob.length).toBe(WRAPPED_KEY_BYTES);
        expect(referenceUnwrap(kekMaterial, blob).equals(raw)).toBe(true);
        const plaintext = randomBytes(48);
        const sealed = await hsm.encrypt({ wrappedBy: kek, blob }, plaintext);
        expect(referenceDecrypt(raw, sealed).equals(plaintext)).toBe(true);
        // A blob wrapped outside (node:crypto) is accepted the same way.
        const outside = referenceWrap(kekMaterial, raw);
        expect((await hsm.decrypt({ wrappedBy: kek, blob: outside }, sealed)).equals(plaintext)).toBe(true);
      });

      it('refuses a blob wrapped under another wrapping key', async () => {
        const kek = label('kek-a');
        const otherKek = label('kek-b');
        await hsm.generateKey(kek);
        await hsm.generateKey(otherKek);
        const blob = await hsm.generateWrappedKey(kek);
        await expect(hsm.encrypt({ wrappedBy: otherKek, blob }, Buffer.from('x'))).rejects.toBeInstanceOf(HsmIntegrityError);
      });

      it('refuses a tampered or malformed blob', async () => {
        const kek = label('kek-t');
        await hsm.generateKey(kek);
        const blob = await hsm.generateWrappedKey(kek);
        for (let index = 0; index < blob.length; index += 1) {
          await expect(hsm.encrypt({ wrappedBy: kek, blob: flipBit(blob, index, 7 - (index % 8)) }, Buffer.from('x')), `byte ${index}`).rejects.toBeInstanceOf(
            HsmIntegrityError,
          );
        }
        for (const bad of [blob.subarray(0, 32), blob.subarray(0, WRAPPED_KEY_BYTES - 1), Buffer.concat([blob, blob]), Buffer.alloc(0)]) {
          await expect(hsm.encrypt({ wrappedBy: kek, blob: bad }, Buffer.from('x'))).rejects.toMatchObject({ code: 'INTEGRITY' });
        }
        // A well-formed RFC 5649 blob of a 16-byte key is not an AES-256 key.
        const kekMaterial = material();
        const importedKek = label('kek-128');
        await hsm.importKey(importedKek, kekMaterial);
        const short = referenceWrap(kekMaterial, randomBytes(16));
        await expect(hsm.encrypt({ wrappedBy: importedKek, blob: short }, Buffer.from('x'))).rejects.toBeInstanceOf(HsmIntegrityError);
        expect((await hsm.decrypt({ wrappedBy: kek, blob }, await hsm.encrypt({ wrappedBy: kek, blob }, Buffer.from('ok')))).toString()).toBe('ok');
      });

      it('makes every blob unusable once its wrapping key is destroyed', async () => {
        const kek = label('kek-d');
        await hsm.generateKey(kek);
        const blob = await hsm.generateWrappedKey(kek);
        const sealed = await hsm.encrypt({ wrappedBy: kek, blob }, Buffer.from('gone soon'));
        await hsm.destroyKey(kek);
        await expect(hsm.decrypt({ wrappedBy: kek, blob }, sealed)).rejects.toBeInstanceOf(HsmKeyNotFoundError);
        // A new key under the same label does not bring the old blobs back.
        await hsm.generateKey(kek);
        await expect(hsm.decrypt({ wrappedBy: kek, blob }, sealed)).rejects.toBeInstanceOf(HsmIntegrityError);
      });

      it('keeps a wrapped key working through repeated use and forget (of it, or of its wrapping key)', async () => {
        const kek = label('kek-f');
        await hsm.generateKey(kek);
        const blob = await hsm.importWrappedKey(kek, material());
        const other = await hsm.generateWrappedKey(kek);
        const key: KeyRef = { wrappedBy: kek, blob };
        const sealed = await hsm.encrypt(key, Buffer.from('kept'));
        for (let round = 0; round < 5; round++) expect((await hsm.decrypt(key, sealed)).toString()).toBe('kept');
        await hsm.forget(key);
        expect((await hsm.decrypt(key, sealed)).toString()).toBe('kept');
        await hsm.encrypt({ wrappedBy: kek, blob: other }, Buffer.from('x'));
        await hsm.forget({ label: kek });
        expect((await hsm.decrypt(key, sealed)).toString()).toBe('kept');
        await expect(hsm.forget({ wrappedBy: kek, blob: Buffer.alloc(3) })).rejects.toBeInstanceOf(HsmIntegrityError);
      });

      it('stops every wrapped key of a wrapping key that another open instance destroys, at once', async () => {
        const second = open();
        const kek = label('kek-x');
        await hsm.generateKey(kek);
        const blob = await hsm.generateWrappedKey(kek);
        const key: KeyRef = { wrappedBy: kek, blob };
        const sealed = await hsm.encrypt(key, Buffer.from('used'));
        expect((await hsm.decrypt(key, sealed)).toString()).toBe('used');
        await second.destroyKey(kek);
        await expect(hsm.decrypt(key, sealed)).rejects.toBeInstanceOf(HsmKeyNotFoundError);
        await expect(hsm.encrypt(key, Buffer.from('x'))).rejects.toBeInstanceOf(HsmKeyNotFoundError);
        await second.close();
      });
    });

    describe('storage and concurrency', () => {
      it('shows a second open instance the keys the first creates and destroys', async () => {
        const second = open();
        const key = label('shared');
        await hsm.generateKey(key);
        expect(await second.hasKey(key)).toBe(true);
        const sealed = await second.encrypt({ label: key }, Buffer.from('from the second'));
        expect((await hsm.decrypt({ label: key }, sealed)).toString()).toBe('from the second');
        await second.destroyKey(key);
        expect(await hsm.hasKey(key)).toBe(false);
        await expect(hsm.encrypt({ label: key }, Buffer.from('x'))).rejects.toBeInstanceOf(HsmKeyNotFoundError);
        await second.close();
      });

      it('keeps keys across new backend instances once every instance was closed', async () => {
        const token = label('persist');
        const kek = label('persist-kek');
        const destroyed = label('persist-gone');
        await hsm.generateKey(token);
        await hsm.generateKey(kek);
        await hsm.importKey(destroyed, material());
        await hsm.destroyKey(destroyed);
        const blob = await hsm.generateWrappedKey(kek);
        const sealed = await hsm.encrypt({ label: token }, Buffer.from('still here'));
        const wrappedSealed = await hsm.encrypt({ wrappedBy: kek, blob }, Buffer.from('me too'));

        // Nothing of the process remains open: the next instance reads the storage afresh.
        for (const instance of opened.splice(0)) await instance.close();
        hsm = open();
        expect(await hsm.hasKey(token)).toBe(true);
        expect(await hsm.hasKey(destroyed)).toBe(false);
        expect((await hsm.decrypt({ label: token }, sealed)).toString()).toBe('still here');
        expect((await hsm.decrypt({ wrappedBy: kek, blob }, wrappedSealed)).toString()).toBe('me too');
      });

      it('serves 200 concurrent encrypt/decrypt pairs (token and wrapped keys)', async () => {
        const token = label('conc');
        const kek = label('conc-kek');
        await hsm.generateKey(token);
        await hsm.generateKey(kek);
        const blobs = await Promise.all([hsm.generateWrappedKey(kek), hsm.importWrappedKey(kek, material())]);
        const pairs = Array.from({ length: 200 }, async (_, index) => {
          const key: KeyRef = index % 2 === 0 ? { label: token } : { wrappedBy: kek, blob: blobs[index % 4 === 1 ? 0 : 1]! };
          const plaintext = randomBytes(32 + (index % 7));
          const aad = Buffer.from(`pair-${index}`);
          const sealed = await hsm.encrypt(key, plaintext, aad);
          const opened = await hsm.decrypt(key, sealed, aad);
          return opened.equals(plaintext);
        });
        const results = await Promise.all(pairs);
        expect(results.filter(Boolean)).toHaveLength(200);
      });

      it('answers HsmUnavailableError once closed', async () => {
        const instance = open();
        const key = label('closed');
        await instance.generateKey(key);
        await instance.close();
        await expect(instance.hasKey(key)).rejects.toBeInstanceOf(HsmUnavailableError);
        await expect(instance.encrypt({ label: key }, Buffer.from('x'))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
        expect(await hsm.hasKey(key)).toBe(true);
      });
    });
  });
}
