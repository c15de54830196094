/**
 * Envelope format v1 known answers. `referenceEnvelope` is ENVELOPE.md written out with node:crypto
 * one-shot calls (hkdfSync, createHmac, createCipheriv), independent of the service's own code; the
 * vector pins its output, and the service must produce and open exactly those bytes.
 */
import { ManualClock } from '@sealbox/platform';
import { createCipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DEK_CACHE_OPTIONS, DekCache } from '../dek-cache/dek-cache.js';
import { key, source } from '../testing/envelope-fixture.js';
import { EnvelopeService } from './envelope.service.js';
import type { KmsKeys, UnwrappedDek, WrappedDek } from './kms-client.js';
import { isCanonicalBase64, parseEnvelope } from './format.js';
import { COMMITMENT_KEY_LABEL, deriveKeys, ENCRYPTION_KEY_LABEL } from './primitives.js';

interface VectorInput {
  readonly dek: Buffer;
  readonly nonce: Buffer;
  readonly context: { readonly instanceCrn: string; readonly secretId: string; readonly versionId: string };
  readonly wrappedDek: string;
  readonly keyVersionId: string;
  readonly payload: Buffer;
}

function u32(length: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(length);
  return bytes;
}

function referenceContext(value: VectorInput['context']): Buffer {
  return Buffer.concat(
    [value.instanceCrn, value.secretId, value.versionId].flatMap((field) => [u32(Buffer.byteLength(field)), Buffer.from(field, 'utf8')]),
  );
}

/** ENVELOPE.md, step by step. */
function referenceEnvelope(input: VectorInput): Buffer {
  const canonical = referenceContext(input.context);
  const hkdf = (label: string) => Buffer.from(hkdfSync('sha256', input.dek, Buffer.alloc(0), label, 32));
  const encryptionKey = hkdf('sealbox-envelope-v1 encryption key');
  const commitmentKey = hkdf('sealbox-envelope-v1 commitment key');
  const commitment = createHmac('sha256', commitmentKey).update(canonical).digest();
  const keyVersion = Buffer.from(input.keyVersionId, 'utf8');
  const w = Buffer.alloc(2);
  w.writeUInt16BE(input.wrappedDek.length);
  const header = Buffer.concat([
    Buffer.from('SBX', 'ascii'),
    Buffer.of(1),
    w,
    Buffer.from(input.wrappedDek, 'ascii'),
    Buffer.of(keyVersion.length),
    keyVersion,
    commitment,
    input.nonce,
  ]);
  const cipher = createCipheriv('aes-256-gcm', encryptionKey, input.nonce, { authTagLength: 16 });
  cipher.setAAD(Buffer.concat([header, canonical]));
  const ciphertext = Buffer.concat([cipher.update(input.payload), cipher.final()]);
  return Buffer.concat([header, ciphertext, cipher.getAuthTag()]);
}

const range = (from: number, length: number) => Buffer.from(Array.from({ length }, (_, index) => (from + index) & 0xff));

const VECTOR: VectorInput = {
  dek: range(0x00, 32),
  nonce: range(0xa0, 12),
  context: { instanceCrn: 'crn:v1:bluemix:public:secrets-manager:us-south:a/acct-1:sm-1::', secretId: 'secret-é', versionId: 'version-1' },
  wrappedDek: 'c2VhbGJveCB3cmFwcGVkIGRlaw==',
  keyVersionId: 'v1-ключ',
  payload: Buffer.from('Sealbox envelope v1 known answer', 'utf8'),
};

/** The envelope of VECTOR, hex (from referenceEnvelope when this file was written; it must never change). */
const VECTOR_ENVELOPE =
  '53425801001c6332566862474a7665434233636d46776347566b4947526c61773d3d0b76312dd0bad0bbd18ed187bac4' +
  '54782dfce64db46980d0fbacbbe914facf009ca476baeedbb93e70eaacd5a0a1a2a3a4a5a6a7a8a9aaabe898426f522e' +
  '47972fc342ebb9aac254a59d57cc277b97a37bd83bfdbfeff532048009692d03f0938f2319f0e170aa23';

/** A kms that unwraps VECTOR's wrapped DEK (and records the DEKs seal asks it to wrap). */
class VectorKms implements KmsKeys {
  readonly wrapped: Buffer[] = [];
  private readonly aad = `sealbox-envelope-v1:${createHash('sha256').update(referenceContext(VECTOR.context)).digest('hex')}`;

  async wrap(request: { dek: Buffer; aad: string }): Promise<WrappedDek> {
    expect(request.aad).toBe(this.aad);
    this.wrapped.push(Buffer.from(request.dek));
    return { wrappedDek: VECTOR.wrappedDek, keyVersionId: VECTOR.keyVersionId };
  }

  async unwrap(request: { wrappedDek: string; aad: string }): Promise<UnwrappedDek> {
    expect(request.aad).toBe(this.aad);
    if (request.wrappedDek !== VECTOR.wrappedDek) throw new Error('not the vector wrapped DEK');
    return { dek: Buffer.from(VECTOR.dek) };
  }
}

function vectorService(): { service: EnvelopeService; kms: VectorKms } {
  const kms = new VectorKms();
  return { service: new EnvelopeService(kms, new DekCache(DEFAULT_DEK_CACHE_OPTIONS, new ManualClock(), null)), kms };
}

describe('envelope format v1 known answer', () => {
  it('is what ENVELOPE.md describes', () => {
    expect(referenceEnvelope(VECTOR).toString('hex')).toBe(VECTOR_ENVELOPE);
  });

  it('opens to its payload, from kms and from the DEK cache', async () => {
    const { service } = vectorService();
    const envelope = Buffer.from(VECTOR_ENVELOPE, 'hex');
    for (let round = 0; round < 2; round++) {
      const opened = await service.open({ source, key, context: VECTOR.context, envelope });
      expect(opened.plaintext.equals(VECTOR.payload)).toBe(true);
    }
  });

  it.each([0, 1, 1024, 65_536 + 7])('seals %i bytes exactly as the reference does with the same DEK and nonce', async (size) => {
    const { service, kms } = vectorService();
    const payload = range(size & 0xff, size);
    const sealed = await service.seal({ source, key, context: VECTOR.context, plaintext: payload });
    const bytes = sealed.envelope;
    const dek = kms.wrapped[0];
    expect(dek).toHaveLength(32);
    const nonce = Buffer.from(parseEnvelope(bytes).nonce);
    expect(bytes.equals(referenceEnvelope({ ...VECTOR, dek: dek ?? Buffer.alloc(0), nonce, payload }))).toBe(true);
  });
});

describe('envelope v1 primitives against their one-shot definitions', () => {
  it('derives K_enc and K_commit exactly as hkdfSync (HKDF-SHA256, empty salt, L = 32)', () => {
    for (let round = 0; round < 50; round++) {
      const dek = randomBytes(32);
      const keys = deriveKeys(dek);
      expect(keys.encryptionKey.equals(Buffer.from(hkdfSync('sha256', dek, Buffer.alloc(0), ENCRYPTION_KEY_LABEL, 32)))).toBe(true);
      expect(keys.commitmentKey.equals(Buffer.from(hkdfSync('sha256', dek, Buffer.alloc(0), COMMITMENT_KEY_LABEL, 32)))).toBe(true);
    }
  });

  it('calls base64 canonical exactly when Buffer writes it back unchanged', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n';
    const texts: string[] = ['', '=', '==', '===', 'A===', 'AA==', 'AB==', 'AAA=', 'AAB=', 'AAAA', 'A=AA', '====', 'AAAA===='];
    for (let length = 1; length <= 40; length++) texts.push(randomBytes(length).toString('base64'));
    for (let round = 0; round < 3000; round++) {
      const length = 1 + (randomBytes(1)[0] ?? 0) % 12;
      texts.push([...randomBytes(length)].map((byte) => alphabet[byte % alphabet.length]).join(''));
    }
    for (const text of texts) {
      const canonical = Buffer.from(text, 'base64').toString('base64') === text;
      expect(isCanonicalBase64(text), JSON.stringify(text)).toBe(canonical);
    }
  });
});
