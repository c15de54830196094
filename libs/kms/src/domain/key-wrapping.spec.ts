import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rejected, thrown } from '../testing/expect-code.js';
import { FakeProvider } from '../testing/fake-provider.js';
import { decodeBase64, decodeExact } from './binary.js';
import { ciphertextFromWire, toWire } from '../handlers/wire-fields.js';
import { CIPHERTEXT_FORMAT_V1, encodeCiphertext, MAX_CIPHERTEXT_BYTES, MAX_CIPHERTEXT_CHARS, parseCiphertext, wrapAadOf } from './ciphertext.js';
import { rewrapDek, unwrapDek, wrapDek, type VersionRef, type WrappingKey } from './key-wrapping.js';

/** A key with versions in a fake provider; `rotate()` adds a version and makes it current. */
class TestKey implements WrappingKey {
  readonly keyId = randomUUID();
  readonly context;
  current!: VersionRef;
  private readonly versions = new Map<string, VersionRef>();

  constructor(
    readonly provider: FakeProvider,
    readonly instanceId: string,
  ) {
    this.context = { instanceId, state: { instanceId } };
  }

  async rotate(): Promise<VersionRef> {
    const version = { id: randomUUID(), material: await this.provider.createVersion(this.context) };
    this.versions.set(version.id, version);
    this.current = version;
    return version;
  }

  async version(id: string): Promise<VersionRef | undefined> {
    return this.versions.get(id);
  }
}

async function newKey(provider = new FakeProvider(), instanceId = 'kp-1'): Promise<TestKey> {
  const key = new TestKey(provider, instanceId);
  await key.rotate();
  return key;
}

const dek = () => randomBytes(32);

/** A copy of the ciphertext with one bit of byte `index` flipped. */
function flip(ciphertext: Buffer, index: number): Buffer {
  const bytes = Buffer.from(ciphertext);
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  return bytes;
}

describe('ciphertext format v1', () => {
  it('is version byte, key version id, provider bytes', () => {
    const versionId = randomUUID();
    const parsed = parseCiphertext(encodeCiphertext(versionId, Buffer.from('opaque-provider-bytes')));
    expect(parsed).toEqual({ format: CIPHERTEXT_FORMAT_V1, keyVersionId: versionId, wrapped: Buffer.from('opaque-provider-bytes') });
    expect(encodeCiphertext(versionId, Buffer.from('x'))[0]).toBe(1);
  });

  it.each([
    ['not base64', 'not*base64!'],
    ['unpadded base64', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['empty', ''],
    ['shorter than the header', Buffer.alloc(17, 1).toString('base64')],
    ['longer than 8192 characters', 'A'.repeat(8196)],
  ])('refuses %s with 400 INVALID_CIPHERTEXT (on the wire, then as bytes)', (_, value) => {
    thrown(() => parseCiphertext(ciphertextFromWire(value)), 'INVALID_CIPHERTEXT');
  });

  it('refuses more bytes than 8192 characters of base64 hold, and no fewer', () => {
    thrown(() => parseCiphertext(Buffer.alloc(MAX_CIPHERTEXT_BYTES + 1, 1)), 'INVALID_CIPHERTEXT');
    expect(parseCiphertext(Buffer.alloc(MAX_CIPHERTEXT_BYTES, 1)).wrapped).toHaveLength(MAX_CIPHERTEXT_BYTES - 17);
    expect(toWire(Buffer.alloc(MAX_CIPHERTEXT_BYTES))).toHaveLength(MAX_CIPHERTEXT_CHARS);
  });

  it('answers an unknown format version with 422 INTEGRITY_FAILED', () => {
    const bytes = encodeCiphertext(randomUUID(), randomBytes(40));
    bytes[0] = 2;
    thrown(() => parseCiphertext(bytes), 'INTEGRITY_FAILED');
  });

  it('binds AAD canonically: no two bindings collide', () => {
    const base = { instanceId: 'i', keyId: 'k', keyVersionId: 'v' };
    const encodings = [
      wrapAadOf({ ...base, aad: [] }),
      wrapAadOf({ ...base, aad: [''] }),
      wrapAadOf({ ...base, aad: ['ab'] }),
      wrapAadOf({ ...base, aad: ['a', 'b'] }),
      wrapAadOf({ ...base, aad: ['b', 'a'] }),
      wrapAadOf({ ...base, instanceId: 'ik', keyId: '', aad: [] }),
    ].map((buffer) => buffer.toString('hex'));
    expect(new Set(encodings).size).toBe(encodings.length);
  });
});

describe('strict base64', () => {
  it('decodes canonical padded base64 only', () => {
    expect(decodeBase64('c2VjcmV0', 'x', 'INVALID_PLAINTEXT').toString()).toBe('secret');
    thrown(() => decodeBase64('c2VjcmV0\n', 'x', 'INVALID_PLAINTEXT'), 'INVALID_PLAINTEXT');
    thrown(() => decodeBase64('c2VjcmV', 'x', 'INVALID_PLAINTEXT'), 'INVALID_PLAINTEXT');
    // Non-zero padding bits: another string for the same bytes.
    thrown(() => decodeBase64('c2VjcmW=', 'x', 'INVALID_PLAINTEXT'), 'INVALID_PLAINTEXT');
  });

  it('checks an exact length', () => {
    expect(decodeExact(Buffer.alloc(32, 7).toString('base64'), 32, 'payload', 'INVALID_KEY_MATERIAL')).toHaveLength(32);
    expect(thrown(() => decodeExact(Buffer.alloc(31).toString('base64'), 32, 'payload', 'INVALID_KEY_MATERIAL'), 'INVALID_KEY_MATERIAL').message).toContain(
      'exactly 32 bytes (got 31)',
    );
    thrown(() => decodeExact(Buffer.alloc(33).toString('base64'), 32, 'payload', 'INVALID_KEY_MATERIAL'), 'INVALID_KEY_MATERIAL');
  });
});

describe('wrap and unwrap with a root key', () => {
  it('round-trips a data key bound to the AAD', async () => {
    const key = await newKey();
    const plaintext = dek();
    const wrapped = await wrapDek(key, plaintext, ['secret-1', 'v1']);
    expect(wrapped.keyVersionId).toBe(key.current.id);
    const { dek: opened, version } = await unwrapDek(key, wrapped.ciphertext, ['secret-1', 'v1']);
    expect(opened.equals(plaintext)).toBe(true);
    expect(version.id).toBe(key.current.id);
  });

  it('after rotation, wraps with the new version and still unwraps the old one; rewrap moves it to the newest', async () => {
    const key = await newKey();
    const plaintext = dek();
    const old = await wrapDek(key, plaintext, []);
    const oldVersion = key.current.id;
    const newest = await key.rotate();
    expect((await wrapDek(key, dek(), [])).keyVersionId).toBe(newest.id);

    const opened = await unwrapDek(key, old.ciphertext, []);
    expect(opened.dek.equals(plaintext)).toBe(true);
    expect(opened.version.id).toBe(oldVersion);

    const moved = await rewrapDek(key, old.ciphertext, []);
    expect(moved).toMatchObject({ from: oldVersion, keyVersionId: newest.id });
    const reopened = await unwrapDek(key, moved.ciphertext, []);
    expect(reopened.version.id).toBe(newest.id);
    expect(reopened.dek.equals(plaintext)).toBe(true);
  });

  it('fails with 422 INTEGRITY_FAILED for another AAD, order of AAD, or missing AAD', async () => {
    const key = await newKey();
    const { ciphertext } = await wrapDek(key, dek(), ['a', 'b']);
    await rejected(unwrapDek(key, ciphertext, ['a', 'c']), 'INTEGRITY_FAILED');
    await rejected(unwrapDek(key, ciphertext, ['b', 'a']), 'INTEGRITY_FAILED');
    await rejected(unwrapDek(key, ciphertext, []), 'INTEGRITY_FAILED');
    await rejected(unwrapDek(key, ciphertext, ['ab']), 'INTEGRITY_FAILED');
  });

  it('fails with 422 INTEGRITY_FAILED for a ciphertext of another key, or of another instance, even with the same material', async () => {
    const provider = new FakeProvider();
    const key = await newKey(provider);
    const other = await newKey(provider);
    const { ciphertext } = await wrapDek(key, dek(), []);
    await rejected(unwrapDek(other, ciphertext, []), 'INTEGRITY_FAILED');

    // Same version material and version id, other key id / instance: the binding differs.
    const twin: WrappingKey = { ...key, keyId: randomUUID(), version: (id) => key.version(id) };
    await rejected(unwrapDek(twin, ciphertext, []), 'INTEGRITY_FAILED');
    const elsewhere: WrappingKey = { ...key, instanceId: 'kp-2', version: (id) => key.version(id) };
    await rejected(unwrapDek(elsewhere, ciphertext, []), 'INTEGRITY_FAILED');
  });

  it('fails with 422 INTEGRITY_FAILED when any bit is flipped, never with a wrong plaintext', async () => {
    const key = await newKey();
    const plaintext = dek();
    const { ciphertext } = await wrapDek(key, plaintext, ['ctx']);
    for (let index = 0; index < ciphertext.length; index++) {
      await rejected(unwrapDek(key, flip(ciphertext, index), ['ctx']), 'INTEGRITY_FAILED');
    }
  });

  it('a truncated ciphertext is INVALID_CIPHERTEXT or INTEGRITY_FAILED, never a plaintext', async () => {
    const key = await newKey();
    const { ciphertext } = await wrapDek(key, dek(), []);
    await rejected(unwrapDek(key, ciphertext.subarray(0, 17), []), 'INVALID_CIPHERTEXT');
    await rejected(unwrapDek(key, ciphertext.subarray(0, ciphertext.length - 1), []), 'INTEGRITY_FAILED');
    await rejected(unwrapDek(key, ciphertext.subarray(0, 20), []), 'INTEGRITY_FAILED');
  });

  it('refuses an empty or oversized data key with 400 INVALID_PLAINTEXT (the provider limit)', async () => {
    const key = await newKey();
    await rejected(wrapDek(key, Buffer.alloc(0), []), 'INVALID_PLAINTEXT');
    await rejected(wrapDek(key, Buffer.alloc(4097), []), 'INVALID_PLAINTEXT');
  });

  it('answers an unavailable HSM with 503 SERVICE_UNAVAILABLE', async () => {
    const provider = new FakeProvider();
    const key = await newKey(provider);
    const { ciphertext } = await wrapDek(key, dek(), []);
    provider.unavailable = true;
    await rejected(wrapDek(key, dek(), []), 'SERVICE_UNAVAILABLE');
    await rejected(unwrapDek(key, ciphertext, []), 'SERVICE_UNAVAILABLE');
    provider.unavailable = false;
    expect((await unwrapDek(key, ciphertext, [])).dek).toHaveLength(32);
  });

  it('after an HPCS zeroize the key unwraps nothing: 409 INSTANCE_NOT_INITIALIZED', async () => {
    const provider = new FakeProvider('hpcs');
    let state = await provider.createInstance('hp-1', { threshold: 2 });
    state = (await provider.loadMasterKeyPart({ instanceId: 'hp-1', state }, 'u1', randomBytes(32))).state;
    state = (await provider.loadMasterKeyPart({ instanceId: 'hp-1', state }, 'u2', randomBytes(32))).state;
    const key = new TestKey(provider, 'hp-1');
    Object.assign(key, { context: { instanceId: 'hp-1', state } });
    await key.rotate();
    const { ciphertext } = await wrapDek(key, dek(), []);
    Object.assign(key, { context: { instanceId: 'hp-1', state: await provider.zeroizeMasterKey(key.context) } });
    await rejected(unwrapDek(key, ciphertext, []), 'INSTANCE_NOT_INITIALIZED');
  });
});
