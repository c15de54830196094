/**
 * What the envelope service does with key material, observed by spying on its primitives: every DEK
 * and derived key it gets is zeroed by the time a call settles, and the commitment is checked before
 * the AEAD ever runs.
 */
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { codeOf, context, envelopeFixture, key } from '../testing/envelope-fixture.js';
import type { FakeKms } from '../testing/fake-kms.js';
import { canonicalContext, encodeEnvelope, encodeHeader, kmsAadOf } from './format.js';
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
    generateDek: vi.fn(() => track(actual.generateDek())),
    decodeDek: vi.fn((text: string) => track(actual.decodeDek(text))),
    deriveKeys: vi.fn((dek: Buffer) => {
      const keys = actual.deriveKeys(dek);
      track(keys.encryptionKey);
      track(keys.commitmentKey);
      return keys;
    }),
    decryptPayload: vi.fn(actual.decryptPayload),
  };
});

const isZero = (buffer: Buffer) => buffer.every((byte) => byte === 0);

beforeEach(() => {
  handedOut.length = 0;
  vi.mocked(primitives.decryptPayload).mockClear();
  vi.mocked(primitives.generateDek).mockClear();
});

/** An envelope whose AEAD verifies under `dek` but whose commitment is `otherDek`'s. */
function committedToAnotherKey(kms: FakeKms, dek: Buffer, otherDek: Buffer): string {
  const canonical = canonicalContext(context);
  const wrapped = kms.wrapBytes(key.instanceId, key.keyId, dek, [kmsAadOf(canonical)]);
  const real = primitives.deriveKeys(dek);
  const other = primitives.deriveKeys(otherDek);
  const nonce = randomBytes(12);
  const header = encodeHeader({
    wrappedDek: wrapped.ciphertext,
    keyVersionId: wrapped.keyVersion.id,
    commitment: primitives.commitmentOf(other.commitmentKey, canonical),
    nonce,
  });
  const { ciphertext, tag } = primitives.encryptPayload(real.encryptionKey, nonce, Buffer.concat([header, canonical]), Buffer.from('x'));
  return encodeEnvelope(header, ciphertext, tag).toString('base64');
}

describe('EnvelopeService key material', () => {
  it('zeroes the DEK it generated and the keys derived from it once seal returns', async () => {
    const { seal } = envelopeFixture();
    await seal(Buffer.from('payload'));
    expect(primitives.generateDek).toHaveBeenCalledTimes(1);
    const dek = vi.mocked(primitives.generateDek).mock.results[0]?.value;
    expect(dek).toBeInstanceOf(Buffer);
    expect(handedOut).toHaveLength(3);
    for (const buffer of handedOut) expect(isZero(buffer)).toBe(true);
  });

  it('zeroes the generated DEK when kms refuses to wrap it', async () => {
    const { kms, seal } = envelopeFixture();
    kms.disable(key.instanceId, key.keyId);
    expect(await codeOf(seal(Buffer.from('payload')))).toBe('KEY_DISABLED');
    expect(handedOut).toHaveLength(1);
    expect(isZero(handedOut[0] ?? Buffer.of(1))).toBe(true);
  });

  it('zeroes the unwrapped DEK and derived keys after open, from kms and from the cache', async () => {
    const { seal, open, cache } = envelopeFixture();
    const envelope = await seal(Buffer.from('payload'));
    handedOut.length = 0;
    await open(envelope);
    expect(primitives.decodeDek).toHaveBeenCalledTimes(1);
    expect(handedOut).toHaveLength(3);
    const get = vi.spyOn(cache, 'get');
    await open(envelope); // from the cache: a copy of the DEK, derived keys
    const copy = get.mock.results[0]?.value?.dek;
    expect(copy).toBeInstanceOf(Buffer);
    handedOut.push(copy);
    expect(handedOut).toHaveLength(6);
    for (const buffer of handedOut) expect(isZero(buffer)).toBe(true);
  });

  it('zeroes the DEK and derived keys when the open fails after the unwrap', async () => {
    const { seal, open } = envelopeFixture();
    const envelope = await seal(Buffer.from('payload'));
    handedOut.length = 0;
    const bytes = Buffer.from(envelope, 'base64');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x80;
    expect(await codeOf(open(bytes.toString('base64')))).toBe('INTEGRITY_FAILED');
    expect(handedOut).toHaveLength(3);
    for (const buffer of handedOut) expect(isZero(buffer)).toBe(true);
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
