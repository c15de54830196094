import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { codeOf, context, domainErrorOf, envelopeFixture, key, source } from '../testing/envelope-fixture.js';
import { FAKE_DISABLED_CODE, FakeKms } from '../testing/fake-kms.js';
import { DekCache, DEFAULT_DEK_CACHE_OPTIONS } from '../dek-cache/dek-cache.js';
import { DomainError, ManualClock } from '@sealbox/platform';
import type { RequestOf, ResponseOf } from '@sealbox/contracts';
import { EnvelopeService, fromUnwrapError } from './envelope.service.js';
import { RpcKmsKeys } from './kms-client.js';
import { canonicalContext, encodeEnvelope, encodeHeader, kmsAadOf, parseEnvelope, TAG_BYTES } from './format.js';
import { commitmentOf, deriveKeys, encryptPayload, zeroKeys } from './primitives.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** `envelope` (base64) with bit `bit` of byte `offset` flipped. */
function flipped(envelope: string, offset: number, bit: number): string {
  const bytes = Buffer.from(envelope, 'base64');
  bytes[offset] = (bytes[offset] ?? 0) ^ (1 << bit);
  return bytes.toString('base64');
}

/**
 * A hand-built envelope: payload under `payloadDek` (valid AEAD), commitment from `commitDek`,
 * wrapped DEK = kms's wrap of `wrappedDek`.
 */
function forge(kms: FakeKms, parts: { wrappedDek: Buffer; commitDek: Buffer; payloadDek: Buffer; plaintext: Buffer }): string {
  const canonical = canonicalContext(context);
  const wrapped = kms.wrapBytes(key.instanceId, key.keyId, parts.wrappedDek, [kmsAadOf(canonical)]);
  const commitKeys = deriveKeys(parts.commitDek);
  const payloadKeys = deriveKeys(parts.payloadDek);
  const nonce = randomBytes(12);
  const header = encodeHeader({
    wrappedDek: wrapped.ciphertext.toString('base64'),
    keyVersionId: wrapped.keyVersion.id,
    commitment: commitmentOf(commitKeys.commitmentKey, canonical),
    nonce,
  });
  const { ciphertext, tag } = encryptPayload(payloadKeys.encryptionKey, nonce, Buffer.concat([header, canonical]), parts.plaintext);
  zeroKeys(commitKeys);
  zeroKeys(payloadKeys);
  return encodeEnvelope(header, ciphertext, tag).toString('base64');
}

describe('EnvelopeService: seal and open', () => {
  it.each([
    ['0 B', 0],
    ['1 KiB', KiB],
    ['64 KiB', 64 * KiB],
    ['1 MiB', MiB],
  ])('round-trips %s', async (_label, size) => {
    const { seal, open } = envelopeFixture();
    const plaintext = randomBytes(size);
    const envelope = await seal(plaintext);
    const bytes = Buffer.from(envelope, 'base64');
    expect(bytes.length).toBe(parseEnvelope(bytes).header.length + size + TAG_BYTES);
    expect((await open(envelope)).equals(plaintext)).toBe(true);
  });

  it('wraps a fresh 256-bit DEK per seal through kms, bound to the context, and stores kms\'s answer', async () => {
    const { kms, wire } = envelopeFixture();
    const plaintext = Buffer.from('same payload');
    const first = await wire.seal({ source, key, context, plaintext: Buffer.from(plaintext) });
    const second = await wire.seal({ source, key, context, plaintext: Buffer.from(plaintext) });
    expect(kms.wrapRequests).toHaveLength(2);
    const [a, b] = kms.wrapRequests;
    expect(a?.source).toEqual(source);
    expect(a?.key).toEqual(key);
    expect(a?.aad).toEqual([kmsAadOf(canonicalContext(context))]);
    expect(a?.plaintext).toHaveLength(32);
    expect(Buffer.from(a?.plaintext ?? []).equals(Buffer.from(b?.plaintext ?? []))).toBe(false);
    expect(Buffer.from(first.envelope).equals(Buffer.from(second.envelope))).toBe(false);
    expect(first.keyVersion).toEqual({ id: 'root-1-v1' });
    const parsed = parseEnvelope(Buffer.from(first.envelope));
    expect(parsed.keyVersionId).toBe('root-1-v1');
    expect(parsed.wrappedDek).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
  });

  it('refuses a payload larger than 1 MiB (PAYLOAD_TOO_LARGE) before asking kms, and zeroes the payload it was given', async () => {
    const { wire, kms } = envelopeFixture();
    const tooLarge = randomBytes(MiB + 1);
    expect(await codeOf(wire.seal({ source, key, context, plaintext: tooLarge }))).toBe('PAYLOAD_TOO_LARGE');
    expect(kms.calls.wrap).toBe(0);
    expect(tooLarge.every((byte) => byte === 0)).toBe(true);
  });
});

describe('EnvelopeService: tampering', () => {
  for (const cache of ['warm', 'off'] as const) {
    it(`fails every flipped bit of a small envelope with a format or integrity error (DEK cache ${cache})`, async () => {
      const { seal, open } = envelopeFixture(cache === 'off' ? { maxEntries: 0 } : {});
      const plaintext = Buffer.from('a small secret');
      const envelope = await seal(plaintext);
      expect((await open(envelope)).equals(plaintext)).toBe(true);
      const length = Buffer.from(envelope, 'base64').length;
      const outcomes = new Map<string, number>();
      for (let offset = 0; offset < length; offset++) {
        for (let bit = 0; bit < 8; bit++) {
          const code = await codeOf(open(flipped(envelope, offset, bit)));
          expect(['ENVELOPE_INVALID', 'INTEGRITY_FAILED'], `byte ${offset} bit ${bit}: ${code}`).toContain(code);
          outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
        }
      }
      expect(outcomes.get('ENVELOPE_INVALID')).toBeGreaterThan(0);
      expect(outcomes.get('INTEGRITY_FAILED')).toBeGreaterThan(0);
      // The original still opens: nothing above poisoned the cache.
      expect((await open(envelope)).equals(plaintext)).toBe(true);
    });
  }

  for (const cache of ['warm', 'cold'] as const) {
    it.each([
      ['instance CRN', { instanceCrn: 'crn:v1:bluemix:public:secrets-manager:us-south:a/acct-1:sm-2::' }],
      ['secret id', { secretId: 'secret-2' }],
      ['version id', { versionId: 'version-2' }],
    ])(`fails with INTEGRITY_FAILED under another %s (cache ${cache})`, async (_field, change) => {
      const { seal, open } = envelopeFixture();
      const envelope = await seal(Buffer.from('bound to its context'));
      if (cache === 'warm') await open(envelope);
      const error = await domainErrorOf(open(envelope, { context: { ...context, ...change } }));
      expect(error.code).toBe('INTEGRITY_FAILED');
    });
  }

  it('fails an envelope of another root key (the other key\'s kms error) and of another KMS instance (NOT_FOUND)', async () => {
    const { kms, seal, open } = envelopeFixture();
    kms.createKey(key.instanceId, 'root-2');
    const envelope = await seal(Buffer.from('payload'));
    expect(await codeOf(open(envelope, { key: { ...key, keyId: 'root-2' } }))).toBe('INTEGRITY_FAILED');
    expect(await codeOf(open(envelope, { key: { instanceId: 'kp-2', keyId: key.keyId } }))).toBe('NOT_FOUND');
  });

  it('refuses truncated, garbage and empty envelopes with ENVELOPE_INVALID before asking kms', async () => {
    const { kms, seal, open } = envelopeFixture({ maxEntries: 0 });
    const envelope = await seal(Buffer.from('payload'));
    const bytes = Buffer.from(envelope, 'base64');
    const header = parseEnvelope(bytes).header.length;
    for (let length = 0; length < header + TAG_BYTES; length++) {
      expect(await codeOf(open(bytes.subarray(0, length).toString('base64'))), `length ${length}`).toBe('ENVELOPE_INVALID');
    }
    for (let round = 0; round < 50; round++) {
      expect(await codeOf(open(randomBytes(1 + round * 13).toString('base64')))).toBe('ENVELOPE_INVALID');
    }
    expect(await codeOf(open(''))).toBe('ENVELOPE_INVALID');
    expect(kms.calls.unwrap).toBe(0);
  });

  it('fails with INTEGRITY_FAILED when the stored commitment is not the DEK\'s, even though the AEAD would verify', async () => {
    const { kms, open } = envelopeFixture();
    const dek = randomBytes(32);
    const other = randomBytes(32);
    const plaintext = Buffer.from('two keys, one ciphertext');
    // Control: the same construction with the right commitment opens.
    expect((await open(forge(kms, { wrappedDek: dek, commitDek: dek, payloadDek: dek, plaintext }))).equals(plaintext)).toBe(true);
    const error = await domainErrorOf(open(forge(kms, { wrappedDek: dek, commitDek: other, payloadDek: dek, plaintext })));
    expect(error.code).toBe('INTEGRITY_FAILED');
    expect(error.message).toMatch(/key commitment/);
  });

  it('fails with INTEGRITY_FAILED when the wrapped key is not a 256-bit DEK', async () => {
    const { kms, open } = envelopeFixture();
    const short = randomBytes(16);
    const longer = Buffer.concat([short, short]);
    const error = await domainErrorOf(open(forge(kms, { wrappedDek: short, commitDek: longer, payloadDek: longer, plaintext: Buffer.from('x') })));
    expect(error.code).toBe('INTEGRITY_FAILED');
    expect(error.message).toMatch(/not a 256-bit/);
  });
});

describe('EnvelopeService: kms errors', () => {
  it('passes a disabled key\'s error code to the caller unchanged, on seal and on open', async () => {
    const { kms, seal, open } = envelopeFixture({ maxEntries: 0 });
    const envelope = await seal(Buffer.from('payload'));
    kms.disable(key.instanceId, key.keyId);
    expect(await codeOf(seal(Buffer.from('payload')))).toBe(FAKE_DISABLED_CODE);
    const error = await domainErrorOf(open(envelope));
    expect(error.code).toBe(FAKE_DISABLED_CODE);
    expect(error.message).toBe(`Key ${key.keyId} is disabled`);
    kms.enable(key.instanceId, key.keyId);
    expect((await open(envelope)).toString()).toBe('payload');
  });

  it('reports a wrapped DEK kms does not take for a ciphertext (INVALID_CIPHERTEXT) as the envelope\'s INTEGRITY_FAILED', async () => {
    const { kms, open } = envelopeFixture();
    const canonical = canonicalContext(context);
    const keys = deriveKeys(randomBytes(32));
    const nonce = randomBytes(12);
    // Canonical base64 the parser accepts, but far too short to be a kms ciphertext.
    const header = encodeHeader({ wrappedDek: 'AAAA', keyVersionId: 'root-1-v1', commitment: commitmentOf(keys.commitmentKey, canonical), nonce });
    const { ciphertext, tag } = encryptPayload(keys.encryptionKey, nonce, Buffer.concat([header, canonical]), Buffer.from('x'));
    zeroKeys(keys);
    const error = await domainErrorOf(open(encodeEnvelope(header, ciphertext, tag).toString('base64')));
    expect(error.code).toBe('INTEGRITY_FAILED');
    expect(error.message).toMatch(/wrapped data key/);
    expect(kms.calls.unwrap).toBe(1);
  });

  it.each(['KEY_DISABLED', 'KEY_DESTROYED', 'NOT_FOUND', 'FORBIDDEN', 'INSTANCE_NOT_INITIALIZED', 'SERVICE_UNAVAILABLE', 'INTEGRITY_FAILED'] as const)(
    'passes kms\'s %s on unwrap through unchanged',
    async (code) => {
      const error = new DomainError(code, `kms says ${code}`);
      expect(fromUnwrapError(error)).toBe(error);
    },
  );

  it('treats a wrapped key kms returns that the format cannot hold as its own failure (INTERNAL), not the caller\'s', async () => {
    class OversizedWrap extends FakeKms {
      override send(subject: 'kms.key.wrap', request: RequestOf<'kms.key.wrap'>): Promise<ResponseOf<'kms.key.wrap'>>;
      override send(subject: 'kms.key.unwrap', request: RequestOf<'kms.key.unwrap'>): Promise<ResponseOf<'kms.key.unwrap'>>;
      override async send(
        subject: 'kms.key.wrap' | 'kms.key.unwrap',
        _request: RequestOf<'kms.key.wrap'> | RequestOf<'kms.key.unwrap'>,
      ): Promise<ResponseOf<'kms.key.wrap'> | ResponseOf<'kms.key.unwrap'>> {
        expect(subject).toBe('kms.key.wrap');
        return { ciphertext: Buffer.alloc(9000, 1), keyVersion: { id: 'v1' } };
      }
    }
    const service = new EnvelopeService(new RpcKmsKeys(new OversizedWrap()), new DekCache(DEFAULT_DEK_CACHE_OPTIONS, new ManualClock(), null));
    expect(await codeOf(service.seal({ source, key, context, plaintext: Buffer.of(0) }))).toBe('not a DomainError');
  });
});

describe('EnvelopeService: DEK cache', () => {
  it('opens from the cache without a second unwrap', async () => {
    const { kms, seal, open } = envelopeFixture();
    const envelope = await seal(Buffer.from('cached'));
    await open(envelope);
    await open(envelope);
    await open(envelope);
    expect(kms.calls.unwrap).toBe(1);
  });

  it('serves one entry at most maxUses times, then asks kms again', async () => {
    const { kms, seal, open } = envelopeFixture({ maxUses: 3 });
    const envelope = await seal(Buffer.from('counted'));
    for (let round = 0; round < 4; round++) await open(envelope);
    expect(kms.calls.unwrap).toBe(1);
    await open(envelope);
    expect(kms.calls.unwrap).toBe(2);
  });

  it('serves an entry for ttlMs, then asks kms again', async () => {
    const { kms, clock, seal, open } = envelopeFixture({ ttlMs: 30_000 });
    const envelope = await seal(Buffer.from('timed'));
    await open(envelope);
    clock.advance(29_999);
    await open(envelope);
    expect(kms.calls.unwrap).toBe(1);
    clock.advance(1);
    await open(envelope);
    expect(kms.calls.unwrap).toBe(2);
  });

  it('does not share entries between callers kms authorized separately', async () => {
    const { kms, seal, open } = envelopeFixture();
    const envelope = await seal(Buffer.from('per source'));
    await open(envelope);
    await open(envelope, { source: { ...source, serviceInstance: 'sm-2' } });
    expect(kms.calls.unwrap).toBe(2);
    expect(kms.unwrapRequests[1]?.source.serviceInstance).toBe('sm-2');
  });

  it('does not cache a DEK whose envelope failed to open', async () => {
    const { kms, seal, open, cache } = envelopeFixture();
    const envelope = await seal(Buffer.from('payload'));
    const bytes = Buffer.from(envelope, 'base64');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    expect(await codeOf(open(bytes.toString('base64')))).toBe('INTEGRITY_FAILED');
    expect(cache.size).toBe(0);
    await open(envelope);
    expect(kms.calls.unwrap).toBe(2);
  });

  it('a cached DEK stops working within 1 s of a key disabled event (ManualClock, InProcessEventBus)', async () => {
    const { kms, clock, events, seal, open } = envelopeFixture({ ttlMs: 300_000, maxUses: 1_000_000 });
    const envelope = await seal(Buffer.from('until disabled'));
    await open(envelope);
    kms.disable(key.instanceId, key.keyId);
    // Without an event the cache still serves it (so what follows is the event's doing).
    expect((await open(envelope)).toString()).toBe('until disabled');
    const disabledAt = clock.nowMs();
    await events.publish('events.kms.key.disabled', {
      specversion: '1.0',
      id: 'e-1',
      source: '/sealbox/kms',
      type: 'com.sealbox.kms.key.disabled',
      time: clock.now().toISOString(),
      datacontenttype: 'application/json',
      data: { accountId: source.accountId, instanceId: key.instanceId, keyId: key.keyId },
    });
    await expect.poll(() => codeOf(open(envelope))).toBe(FAKE_DISABLED_CODE);
    expect(clock.nowMs() - disabledAt).toBeLessThan(1000);
  });

  it('does not let an unwrap in flight during a disable event refill the cache', async () => {
    const { kms, events, seal, open, cache } = envelopeFixture();
    const envelope = await seal(Buffer.from('raced'));
    let release: () => void = () => undefined;
    kms.unwrapGate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const inFlight = open(envelope);
    await expect.poll(() => kms.calls.unwrap).toBe(1);
    await events.publish('events.kms.key.disabled', {
      specversion: '1.0',
      id: 'e-2',
      source: '/sealbox/kms',
      type: 'com.sealbox.kms.key.disabled',
      time: new Date(0).toISOString(),
      datacontenttype: 'application/json',
      data: { accountId: source.accountId, instanceId: key.instanceId, keyId: key.keyId },
    });
    // kms answered before the disable; the purge ran while its answer was travelling back.
    await expect.poll(() => cache.ticket()).toBeGreaterThan(0);
    release();
    kms.unwrapGate = undefined;
    expect((await inFlight).toString()).toBe('raced');
    expect(cache.size).toBe(0);
  });
});

describe('EnvelopeService: rotation', () => {
  it('returns the envelope rewrapped under the newest key version when kms rewrapped the DEK, and it opens', async () => {
    const { kms, seal, open, wire } = envelopeFixture();
    const plaintext = Buffer.from('rotate me');
    const old = await seal(plaintext);
    const newest = kms.rotate(key.instanceId, key.keyId);

    const first = await wire.open({ source, key, context, envelope: Buffer.from(old, 'base64') });
    expect(Buffer.from(first.plaintext).equals(plaintext)).toBe(true);
    expect(first.rewrapped?.keyVersion).toEqual({ id: newest });
    const rewrapped = Buffer.from(first.rewrapped?.envelope ?? []).toString('base64');
    const before = parseEnvelope(Buffer.from(old, 'base64'));
    const after = parseEnvelope(Buffer.from(rewrapped, 'base64'));
    expect(after.keyVersionId).toBe(newest);
    expect(after.wrappedDek).not.toBe(before.wrappedDek);
    expect(after.nonce.equals(before.nonce)).toBe(false);

    // From the cache, the old envelope still reports its rewrapped form.
    const again = await wire.open({ source, key, context, envelope: Buffer.from(old, 'base64') });
    expect(kms.calls.unwrap).toBe(1);
    expect(again.rewrapped?.keyVersion).toEqual({ id: newest });

    const reopened = await wire.open({ source, key, context, envelope: Buffer.from(rewrapped, 'base64') });
    expect(Buffer.from(reopened.plaintext).equals(plaintext)).toBe(true);
    expect(reopened.rewrapped).toBeUndefined();
    // The rewrapped envelope is bound to the same context.
    expect(await codeOf(open(rewrapped, { context: { ...context, versionId: 'other' } }))).toBe('INTEGRITY_FAILED');
  });

  it('drops the cached DEKs of a rotated key, so the next open learns about the rewrap from kms', async () => {
    const { kms, events, seal, wire } = envelopeFixture();
    const old = await seal(Buffer.from('rotating'));
    expect((await wire.open({ source, key, context, envelope: Buffer.from(old, 'base64') })).rewrapped).toBeUndefined();
    kms.rotate(key.instanceId, key.keyId);
    await events.publish('events.kms.key.rotated', {
      specversion: '1.0',
      id: 'e-3',
      source: '/sealbox/kms',
      type: 'com.sealbox.kms.key.rotated',
      time: new Date(0).toISOString(),
      datacontenttype: 'application/json',
      data: { accountId: source.accountId, instanceId: key.instanceId, keyId: key.keyId },
    });
    await expect.poll(async () => (await wire.open({ source, key, context, envelope: Buffer.from(old, 'base64') })).rewrapped?.keyVersion.id).toBe('root-1-v2');
  });
});
