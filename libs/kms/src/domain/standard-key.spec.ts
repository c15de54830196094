import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rejected, thrown } from '../testing/expect-code.js';
import { FakeProvider } from '../testing/fake-provider.js';
import { wrapAadOf } from './ciphertext.js';
import {
  decodeStandardPayload,
  openStandardPayload,
  requireRootKey,
  sealStandardPayload,
  standardPayloadAad,
  STANDARD_KEY_MAX_BYTES,
  STANDARD_KEY_MIN_BYTES,
} from './standard-key.js';

describe('standard key payload: decoding', () => {
  it.each([STANDARD_KEY_MIN_BYTES, 32, 64, STANDARD_KEY_MAX_BYTES])('accepts %i bytes of canonical base64', (length) => {
    const material = randomBytes(length);
    expect(decodeStandardPayload(material.toString('base64')).equals(material)).toBe(true);
  });

  it.each([
    ['shorter than 16 bytes', randomBytes(STANDARD_KEY_MIN_BYTES - 1).toString('base64')],
    ['longer than 4096 bytes', randomBytes(STANDARD_KEY_MAX_BYTES + 1).toString('base64')],
    ['not base64', 'not base64!'],
    ['not padded', randomBytes(17).toString('base64').replace(/=+$/, '')],
    ['empty', ''],
  ])('refuses a payload %s with 400 INVALID_KEY_MATERIAL', (_, payload) => {
    thrown(() => decodeStandardPayload(payload), 'INVALID_KEY_MATERIAL');
  });

  it('names the limits in the message', () => {
    expect(thrown(() => decodeStandardPayload(randomBytes(8).toString('base64')), 'INVALID_KEY_MATERIAL').message).toContain('16 to 4096 bytes (got 8)');
  });
});

describe('standard key payload: sealing', () => {
  const provider = new FakeProvider();
  const context = { instanceId: 'kp-1', state: { instanceId: 'kp-1' } };
  const binding = () => ({ instanceId: 'kp-1', keyId: randomUUID(), keyVersionId: randomUUID() });

  it('seals with the key version and opens only with the same binding', async () => {
    const version = await provider.createVersion(context);
    const material = randomBytes(48);
    const bound = binding();
    const sealed = await sealStandardPayload(provider, context, version, material, bound);
    expect(Buffer.from(sealed, 'base64').includes(material)).toBe(false);
    expect((await openStandardPayload(provider, context, version, sealed, bound)).equals(material)).toBe(true);

    await rejected(openStandardPayload(provider, context, version, sealed, { ...bound, keyId: randomUUID() }), 'INTEGRITY_FAILED');
    await rejected(openStandardPayload(provider, context, version, sealed, { ...bound, keyVersionId: randomUUID() }), 'INTEGRITY_FAILED');
    await rejected(openStandardPayload(provider, context, version, sealed, { ...bound, instanceId: 'kp-2' }), 'INTEGRITY_FAILED');
    const other = await provider.createVersion(context);
    await rejected(openStandardPayload(provider, context, other, sealed, bound), 'INTEGRITY_FAILED');
    const flipped = Buffer.from(sealed, 'base64');
    flipped[20] = (flipped[20] ?? 0) ^ 0x01;
    await rejected(openStandardPayload(provider, context, version, flipped.toString('base64'), bound), 'INTEGRITY_FAILED');
  });

  it('binds a context no wrap of a data key can have', () => {
    const bound = binding();
    expect(standardPayloadAad(bound).equals(wrapAadOf({ ...bound, aad: [] }))).toBe(false);
    expect(standardPayloadAad(bound).equals(standardPayloadAad({ ...bound, keyId: randomUUID() }))).toBe(false);
  });

  it('refuses material the provider does not wrap with 400 INVALID_KEY_MATERIAL, and an unavailable HSM with 503', async () => {
    const version = await provider.createVersion(context);
    await rejected(sealStandardPayload(provider, context, version, Buffer.alloc(0), binding()), 'INVALID_KEY_MATERIAL');
    const down = new FakeProvider();
    const downVersion = await down.createVersion(context);
    down.unavailable = true;
    await rejected(sealStandardPayload(down, context, downVersion, randomBytes(32), binding()), 'SERVICE_UNAVAILABLE');
  });
});

describe('root key actions', () => {
  it('refuses them on a standard key with 400 KEY_ROOT_REQ_ERR naming the action', () => {
    expect(thrown(() => requireRootKey({ id: 'k1', extractable: true }, 'rotate'), 'KEY_ROOT_REQ_ERR').message).toBe('Key k1 is a standard key: rotate needs a root key');
    expect(() => requireRootKey({ id: 'k1', extractable: false }, 'rotate')).not.toThrow();
  });
});
