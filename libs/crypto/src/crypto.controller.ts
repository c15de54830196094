import { Controller } from '@nestjs/common';
import type { HealthResponse, ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { healthReport, RpcHandler, validationFailed } from '@sealbox/platform';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { envelopeInvalid } from './errors.js';
import { EnvelopeService, type Sealed } from './envelope/envelope.service.js';
import { decodeCanonicalBase64 } from './envelope/format.js';

export type SealRequest = ValidatedRequestOf<'crypto.envelope.seal'>;
export type SealResponse = ResponseOf<'crypto.envelope.seal'>;
export type OpenRequest = ValidatedRequestOf<'crypto.envelope.open'>;
export type OpenResponse = ResponseOf<'crypto.envelope.open'>;

/** Known-answer style self-test: AES-256-GCM must round-trip and reject a flipped tag. */
export async function aeadSelfTest(): Promise<void> {
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const aad = Buffer.from('sealbox:self-test');
  const plaintext = randomBytes(64);
  const cipher = createCipheriv('aes-256-gcm', key, nonce).setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  const decipher = createDecipheriv('aes-256-gcm', key, nonce).setAAD(aad).setAuthTag(tag);
  const opened = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  if (!opened.equals(plaintext)) throw new Error('AES-256-GCM round trip failed');
  const forged = Buffer.from(tag);
  forged[0] = (forged[0] ?? 0) ^ 1;
  const bad = createDecipheriv('aes-256-gcm', key, nonce).setAAD(aad).setAuthTag(forged);
  bad.update(ciphertext);
  let rejected = false;
  try {
    bad.final();
  } catch {
    rejected = true;
  }
  key.fill(0);
  if (!rejected) throw new Error('AES-256-GCM accepted a forged tag');
}

/**
 * The envelope subjects' wire shapes over the envelope service, which works on bytes: the ONE place
 * that converts their binary fields (canonical base64 today: when the subjects carry bytes, only
 * `fromWire` and `toWire` change) and zeroes the plaintext Buffers once converted.
 */
export class EnvelopeWire {
  constructor(private readonly envelopes: EnvelopeService) {}

  async seal(request: SealRequest): Promise<SealResponse> {
    const plaintext = fromWire(request.plaintext);
    if (!plaintext) throw validationFailed([{ field: 'plaintext', message: 'must be canonical padded base64' }]);
    try {
      return toWire(await this.envelopes.seal({ source: request.source, key: request.key, context: request.context, plaintext }));
    } finally {
      plaintext.fill(0);
    }
  }

  async open(request: OpenRequest): Promise<OpenResponse> {
    const envelope = fromWire(request.envelope);
    if (!envelope) throw envelopeInvalid('it is not canonical padded base64');
    const opened = await this.envelopes.open({ source: request.source, key: request.key, context: request.context, envelope });
    try {
      const plaintext = opened.plaintext.toString('base64');
      return opened.rewrapped ? { plaintext, rewrapped: toWire(opened.rewrapped) } : { plaintext };
    } finally {
      opened.plaintext.fill(0);
    }
  }
}

/** A binary wire field as bytes: canonical padded base64 only (one value, one encoding). */
function fromWire(text: string): Buffer | undefined {
  return decodeCanonicalBase64(text);
}

function toWire(sealed: Sealed): SealResponse {
  return { envelope: sealed.envelope.toString('base64'), keyVersion: { id: sealed.keyVersion.id } };
}

@Controller()
export class CryptoRpcController {
  private readonly wire: EnvelopeWire;

  constructor(envelopes: EnvelopeService) {
    this.wire = new EnvelopeWire(envelopes);
  }

  @RpcHandler('crypto.health')
  async health(): Promise<HealthResponse> {
    return healthReport('crypto', { aead: aeadSelfTest });
  }

  @RpcHandler('crypto.envelope.seal')
  async seal(request: SealRequest): Promise<SealResponse> {
    return this.wire.seal(request);
  }

  @RpcHandler('crypto.envelope.open')
  async open(request: OpenRequest): Promise<OpenResponse> {
    return this.wire.open(request);
  }
}
