/**
 * What the envelope service does with key material, observed by spying on its primitives: every DEK
 * and derived key it gets is zeroed by the time a call settles (K_enc once the DEK cache drops it), and
 * the commitment is checked before the AEAD ever runs.
 */
import { createDecipheriv, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { codeOf, context, envelopeFixture, key } from '../testing/envelope-fixture.js';
import type { FakeKms } from '../testing/fake-kms.js';
import { canonicalContext, encodeEnvelope, encodeHeader, kmsAadOf } from './format.js';
import { RpcKmsKeys } from './kms-client.js';
import * as primitives from './primitives.js';

/** Every Buffer of key material the primitives handed out, to check it is zero afterwards. */
const handedOut: Buffer[] = [];

vi.mock(import('./primitives.js'), async (importOriginal) => {
  const actual = await importOriginal();
  const track = <T extends Buffer | undefined>(buffer: T): T => {
    if (buffer) handedOut.push(buffer);
    return buffer;
  };
  return {
    ...actual,
    freshSecrets: vi.fn(() => {
      const fresh = actual.freshSecrets();
      track(fresh.bytes);
      return fresh;
    }),
    deriveKeys: vi.fn((dek: Buffer) => {
      const keys = actual.deriveKeys(dek);
      track(keys.encryptionKey);
      track(keys.commitmentKey);
      return keys;
    }),
    decryptPayload: vi.fn(actual.decryptPayload),
  };
});

/** The DEKs kms handed back (RpcKmsKeys decodes them into Buffers the service must zero). */
function trackUnwrappedDeks(): void {
  const unwrap = RpcKmsKeys.prototype.unwrap;
  vi.spyOn(RpcKmsKeys.prototype, 'unwrap').mockImplementation(async function (this: RpcKmsKeys, request) {
    const unwrapped = await unwrap.call(this, request);
    handedOut.push(unwrapped.dek);
    return unwrapped;
  });
}

const isZero = (buffer: Buffer) => buffer.every((byte) => byte === 0);

beforeEach(() => {
  handedOut.length = 0;
  vi.mocked(primitives.decryptPayload).mockClear();
  vi.mocked(primitives.freshSecrets).mockClear();
  vi.mocked(primitives.deriveKeys).mockClear();
  trackUnwrappedDeks();
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** An envelope whose AEAD verifies under `dek` but whose commitment is `otherDek`'s. */
function committedToAnotherKey(kms: FakeKms, dek: Buffer, otherDek: Buffer): string {
  const canonical = canonicalContext(context);
  const wrapped = kms.wrapBytes(key.instanceId, key.keyId, dek, [kmsAadOf(canonical)]);
  const real = primitives.deriveKeys(dek);
  const other = primitives.deriveKeys(otherDek);
  const nonce = randomBytes(12);
  const header = encodeHeader({
    wrappedDek: wrapped.ciphertext.toString('base64'),
    keyVersionId: wrapped.keyVersion.id,
    commitment: primitives.commitmentOf(other.commitmentKey, canonical),
    nonce,
  });
  const { ciphertext, tag } = primitives.encryptPayload(real.encryptionKey, nonce, Buffer.concat([header, canonical]), Buffer.from('x'));
  return encodeEnvelope(header, ciphertext, tag).toString('base64');
}

describe('EnvelopeService key material', () => {
  it('zeroes the DEK (and nonce) it drew and the keys derived from it once seal returns', async () => {
    const { seal } = envelopeFixture();
    await seal(Buffer.from('payload'));
    expect(primitives.freshSecrets).toHaveBeenCalledTimes(1);
    expect(handedOut).toHaveLength(3);
    for (const buffer of handedOut) expect(isZero(buffer)).toBe(true);
  });

  it('zeroes the DEK it drew when kms refuses to wrap it', async () => {
    const { kms, seal } = envelopeFixture();
    kms.disable(key.instanceId, key.keyId);
    expect(await codeOf(seal(Buffer.from('payload')))).toBe('KEY_DISABLED');
    expect(handedOut).toHaveLength(1);
    expect(isZero(handedOut[0] ?? Buffer.of(1))).toBe(true);
  });

  it('zeroes the unwrapped DEK and K_commit after open; the cache owns K_enc until it drops the entry', async () => {
    const { seal, open, cache } = envelopeFixture();
    const envelope = await seal(Buffer.from('payload'));
    handedOut.length = 0;
    await open(envelope);
    const [dek, encryptionKey, commitmentKey] = handedOut;
    expect(handedOut).toHaveLength(3);
    expect(isZero(dek ?? Buffer.of(1))).toBe(true);
    expect(isZero(commitmentKey ?? Buffer.of(1))).toBe(true);
    expect(isZero(encryptionKey ?? Buffer.alloc(1))).toBe(false);
    cache.close();
    expect(isZero(encryptionKey ?? Buffer.of(1))).toBe(true);
  });

  it('zeroes every key after open when the cache is off', async () => {
    const { seal, open } = envelopeFixture({ maxEntries: 0 });
    const envelope = await seal(Buffer.from('payload'));
    handedOut.length = 0;
    await open(envelope);
    expect(handedOut).toHaveLength(3);
    for (const buffer of handedOut) expect(isZero(buffer)).toBe(true);
  });

  it('opens from the cache without handing out any key material', async () => {
    const { seal, open } = envelopeFixture();
    const envelope = await seal(Buffer.from('payload'));
    await open(envelope);
    handedOut.length = 0;
    vi.mocked(primitives.deriveKeys).mockClear();
    expect((await open(envelope)).toString()).toBe('payload');
    expect(primitives.deriveKeys).not.toHaveBeenCalled();
    expect(handedOut).toHaveLength(0);
  });

  it('zeroes the DEK and derived keys when the open fails after the unwrap, and caches nothing', async () => {
    const { seal, open, cache } = envelopeFixture();
    const envelope = await seal(Buffer.from('payload'));
    handedOut.length = 0;
    const bytes = Buffer.from(envelope, 'base64');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x80;
    expect(await codeOf(open(bytes.toString('base64')))).toBe('INTEGRITY_FAILED');
    expect(handedOut).toHaveLength(3);
    for (const buffer of handedOut) expect(isZero(buffer)).toBe(true);
    expect(cache.size).toBe(0);
  });

  it('zeroes the plaintext the AEAD produced when the tag does not verify', () => {
    const keys = primitives.deriveKeys(randomBytes(32));
    const nonce = randomBytes(12);
    const aad: [Buffer, Buffer] = [Buffer.from('header'), Buffer.from('context')];
    const { ciphertext, tag } = primitives.encryptPayload(keys.encryptionKey, nonce, Buffer.concat(aad), Buffer.from('secret bytes'));
    tag[0] = (tag[0] ?? 0) ^ 1;
    const update = vi.spyOn(Object.getPrototypeOf(createDecipheriv('aes-256-gcm', keys.encryptionKey, nonce)), 'update');
    expect(primitives.decryptPayload(keys.encryptionKey, nonce, aad, ciphertext, tag)).toBeUndefined();
    const produced = update.mock.results[0]?.value as Buffer | undefined;
    expect(produced).toHaveLength(ciphertext.length);
    expect(isZero(produced ?? Buffer.of(1))).toBe(true);
  });
});

describe('EnvelopeService commitment', () => {
  it('is checked before decryption: a mismatch never reaches the AEAD', async () => {
    const { kms, open } = envelopeFixture();
    const dek = randomBytes(32);
    expect(await codeOf(open(committedToAnotherKey(kms, dek, randomBytes(32))))).toBe('INTEGRITY_FAILED');
    expect(primitives.decryptPayload).not.toHaveBeenCalled();
    // Control: the same envelope committed to its own DEK does reach the AEAD, and opens.
    expect(await codeOf(open(committedToAnotherKey(kms, dek, dek)))).toBe('resolved');
    expect(primitives.decryptPayload).toHaveBeenCalledTimes(1);
  });
});
