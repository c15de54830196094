import { describe, expect, it } from 'vitest';
import { codeOf } from '../testing/envelope-fixture.js';
import {
  canonicalContext,
  decodeCanonicalBase64,
  encodeEnvelope,
  encodeHeader,
  ENVELOPE_MAGIC,
  FIXED_BYTES,
  kmsAadOf,
  MAX_ENVELOPE_BYTES,
  MIN_ENVELOPE_BYTES,
  parseEnvelope,
  type HeaderFields,
} from './format.js';
import { CryptoWire } from '@sealbox/contracts';

const fields: HeaderFields = {
  wrappedDek: 'AAECAwQ=',
  keyVersionId: 'v-1',
  commitment: Buffer.alloc(32, 0xc0),
  nonce: Buffer.alloc(12, 0x0e),
};
const ciphertext = Buffer.from('ciphertext');
const tag = Buffer.alloc(16, 0x7a);
const envelope = () => encodeEnvelope(encodeHeader(fields), ciphertext, tag);

async function parseCode(bytes: Buffer) {
  return codeOf(Promise.resolve().then(() => parseEnvelope(bytes)));
}

function parseMessage(bytes: Buffer): string {
  try {
    parseEnvelope(bytes);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  return 'parsed';
}

describe('envelope format v1: layout', () => {
  it('lays the fields out as documented: magic, version, W, wrapped DEK, K, key version id, commitment, nonce, ciphertext, tag', () => {
    const bytes = envelope();
    const expected = Buffer.concat([
      Buffer.from([0x53, 0x42, 0x58]),
      Buffer.from([0x01]),
      Buffer.from([0x00, 0x08]),
      Buffer.from('AAECAwQ=', 'ascii'),
      Buffer.from([0x03]),
      Buffer.from('v-1', 'utf8'),
      fields.commitment,
      fields.nonce,
      ciphertext,
      tag,
    ]);
    expect(bytes.equals(expected)).toBe(true);
    expect(bytes.length).toBe(FIXED_BYTES + 8 + 3 + ciphertext.length);
  });

  it('parses what it encodes, the header being every byte before the ciphertext', () => {
    const bytes = envelope();
    const parsed = parseEnvelope(bytes);
    expect(parsed.wrappedDek).toBe(fields.wrappedDek);
    expect(parsed.keyVersionId).toBe(fields.keyVersionId);
    expect(parsed.commitment.equals(fields.commitment)).toBe(true);
    expect(parsed.nonce.equals(fields.nonce)).toBe(true);
    expect(parsed.ciphertext.equals(ciphertext)).toBe(true);
    expect(parsed.tag.equals(tag)).toBe(true);
    expect(parsed.header.equals(bytes.subarray(0, bytes.length - ciphertext.length - 16))).toBe(true);
  });

  it('holds an empty payload and a multi-byte key version id', () => {
    const bytes = encodeEnvelope(encodeHeader({ ...fields, keyVersionId: 'vé-✓' }), Buffer.alloc(0), tag);
    const parsed = parseEnvelope(bytes);
    expect(parsed.keyVersionId).toBe('vé-✓');
    expect(parsed.ciphertext.length).toBe(0);
  });

  it('agrees with the wire limit of an envelope', () => {
    expect(MAX_ENVELOPE_BYTES).toBe(CryptoWire.MAX_ENVELOPE_BYTES);
    expect(MIN_ENVELOPE_BYTES).toBe(69);
  });

  it('refuses to encode fields the format cannot hold (a kms contract breach, not a caller error)', () => {
    expect(() => encodeHeader({ ...fields, wrappedDek: '' })).toThrow(/wrapped key/);
    expect(() => encodeHeader({ ...fields, wrappedDek: 'not base64!' })).toThrow(/wrapped key/);
    expect(() => encodeHeader({ ...fields, wrappedDek: 'AAECAw' })).toThrow(/wrapped key/);
    expect(() => encodeHeader({ ...fields, wrappedDek: 'AAECAx==' })).toThrow(/wrapped key/);
    expect(() => encodeHeader({ ...fields, wrappedDek: 'A'.repeat(8193) })).toThrow(/wrapped key/);
    expect(() => encodeHeader({ ...fields, keyVersionId: '' })).toThrow(/key version/);
    expect(() => encodeHeader({ ...fields, keyVersionId: 'x'.repeat(256) })).toThrow(/key version/);
    expect(() => encodeHeader({ ...fields, keyVersionId: '\uD800' })).toThrow(/key version/);
    expect(() => encodeHeader({ ...fields, nonce: Buffer.alloc(11) })).toThrow(/nonce/);
    expect(() => encodeHeader({ ...fields, commitment: Buffer.alloc(31) })).toThrow(/commitment/);
  });
});

describe('envelope format v1: strict parser', () => {
  it('refuses an empty envelope', async () => {
    expect(await parseCode(Buffer.alloc(0))).toBe('ENVELOPE_INVALID');
    expect(parseMessage(Buffer.alloc(0))).toMatch(/empty/);
  });

  it('refuses every truncation with ENVELOPE_INVALID', async () => {
    const bytes = envelope();
    // Cutting into the ciphertext leaves a well-formed (shorter) envelope: the AEAD catches that one.
    const headerAndTag = bytes.length - ciphertext.length;
    for (let length = 0; length < headerAndTag; length++) {
      expect(await parseCode(bytes.subarray(0, length)), `length ${length}`).toBe('ENVELOPE_INVALID');
    }
  });

  it('refuses a wrong magic and names it', async () => {
    const bytes = envelope();
    bytes[0] = 0x54;
    expect(await parseCode(bytes)).toBe('ENVELOPE_INVALID');
    expect(parseMessage(bytes)).toMatch(/magic/);
  });

  it.each([0, 2, 0xff])('refuses format version %i', async (version) => {
    const bytes = envelope();
    bytes[ENVELOPE_MAGIC.length] = version;
    expect(await parseCode(bytes)).toBe('ENVELOPE_INVALID');
    expect(parseMessage(bytes)).toMatch(new RegExp(`version ${version} is not supported`));
  });

  it('refuses a wrapped key length of 0, above 8192 or past the end', async () => {
    for (const length of [0, 8193, 0xffff, 200]) {
      const bytes = envelope();
      bytes.writeUInt16BE(length, 4);
      expect(await parseCode(bytes), `W = ${length}`).toBe('ENVELOPE_INVALID');
    }
  });

  it('refuses a wrapped key that is not canonical padded base64', async () => {
    const notBase64 = envelope();
    notBase64[6] = 0x21; // "!"
    expect(await parseCode(notBase64)).toBe('ENVELOPE_INVALID');
    expect(parseMessage(notBase64)).toMatch(/wrapped key is not canonical padded base64/);
    const extraBits = envelope();
    extraBits[6 + 6] = 'R'.charCodeAt(0); // "AAECAwR=": bits set after the last byte
    expect(parseMessage(extraBits)).toMatch(/wrapped key is not canonical padded base64/);
  });

  it('refuses an empty key version id, one past the end, or one that is not UTF-8', async () => {
    const offset = 6 + fields.wrappedDek.length;
    const empty = envelope();
    empty[offset] = 0;
    expect(parseMessage(empty)).toMatch(/key version id is empty/);
    const long = envelope();
    long[offset] = 0xff;
    expect(parseMessage(long)).toMatch(/truncated/);
    const notUtf8 = envelope();
    notUtf8[offset + 1] = 0xc3; // a lead byte followed by "-"
    expect(await parseCode(notUtf8)).toBe('ENVELOPE_INVALID');
    expect(parseMessage(notUtf8)).toMatch(/not UTF-8/);
  });

  it('refuses an envelope larger than the format allows', async () => {
    expect(await parseCode(Buffer.concat([envelope(), Buffer.alloc(MAX_ENVELOPE_BYTES)]))).toBe('ENVELOPE_INVALID');
  });

  it('refuses garbage of every length', async () => {
    for (let length = 1; length < 300; length += 7) {
      const garbage = Buffer.alloc(length, length);
      expect(await parseCode(garbage), `length ${length}`).toBe('ENVELOPE_INVALID');
    }
  });
});

describe('canonical context', () => {
  it('is each field as a uint32 BE byte length then UTF-8, in the order instance CRN, secret id, version id', () => {
    const bytes = canonicalContext({ instanceCrn: 'crn', secretId: 'sé', versionId: 'v' });
    expect(bytes.toString('hex')).toBe('00000003' + '63726e' + '00000003' + '73c3a9' + '00000001' + '76');
  });

  it('keeps field boundaries: shifting characters between fields changes it', () => {
    const a = canonicalContext({ instanceCrn: 'ab', secretId: 'c', versionId: 'd' });
    const b = canonicalContext({ instanceCrn: 'a', secretId: 'bc', versionId: 'd' });
    expect(a.equals(b)).toBe(false);
  });

  it('goes to kms as one labelled SHA-256 entry', () => {
    const aad = kmsAadOf(canonicalContext({ instanceCrn: 'crn', secretId: 's', versionId: 'v' }));
    expect(aad).toMatch(/^sealbox-envelope-v1:[0-9a-f]{64}$/);
    expect(aad).not.toBe(kmsAadOf(canonicalContext({ instanceCrn: 'crn', secretId: 's', versionId: 'w' })));
  });

  it('refuses lone surrogates at the wire, so two strings never encode alike', () => {
    const withLone = CryptoWire.EnvelopeContext.safeParse({ instanceCrn: 'crn', secretId: 'a\uD800', versionId: 'v' });
    expect(withLone.success).toBe(false);
    const withPair = CryptoWire.EnvelopeContext.safeParse({ instanceCrn: 'crn', secretId: 'a😀', versionId: 'v' });
    expect(withPair.success).toBe(true);
  });
});

describe('canonical base64', () => {
  it('decodes what Buffer writes', () => {
    const bytes = Buffer.from([0, 1, 2, 250, 251]);
    expect(decodeCanonicalBase64(bytes.toString('base64'))?.equals(bytes)).toBe(true);
    expect(decodeCanonicalBase64('')?.length).toBe(0);
  });

  it.each(['AAECAw', 'AAECAx==', 'AAEC Aw==', 'AAECAw=', '-_8='])('refuses %j', (text) => {
    expect(decodeCanonicalBase64(text)).toBeUndefined();
  });
});
