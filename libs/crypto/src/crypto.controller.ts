import { Controller } from '@nestjs/common';
import type { HealthResponse, ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { healthReport, RpcHandler, type RpcMeta } from '@sealbox/platform';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { EnvelopeService, type Sealed } from './envelope/envelope.service.js';

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
 * The envelope subjects over the envelope service: both carry bytes, so this only reshapes. The
 * plaintext a seal received is zeroed once sealed; the plaintext an open returns is zeroed by the
 * transport once its reply is encoded (`zeroAfterReply`), so no copy of it stays behind.
 */
export class EnvelopeWire {
  constructor(private readonly envelopes: EnvelopeService) {}

  async seal(request: SealRequest): Promise<SealResponse> {
    const plaintext = asBuffer(request.plaintext);
    try {
      return toWire(await this.envelopes.seal({ source: request.source, key: request.key, context: request.context, plaintext }));
    } finally {
      plaintext.fill(0);
    }
  }

  async open(request: OpenRequest, zeroAfterReply: (buffer: Uint8Array) => void = () => undefined): Promise<OpenResponse> {
    const opened = await this.envelopes.open({ source: request.source, key: request.key, context: request.context, envelope: asBuffer(request.envelope) });
    zeroAfterReply(opened.plaintext);
    return opened.rewrapped ? { plaintext: opened.plaintext, rewrapped: toWire(opened.rewrapped) } : { plaintext: opened.plaintext };
  }
}

/** The bytes of a wire field as a Buffer over the same memory (no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function toWire(sealed: Sealed): SealResponse {
  return { envelope: sealed.envelope, keyVersion: { id: sealed.keyVersion.id } };
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
  async open(request: OpenRequest, meta: RpcMeta): Promise<OpenResponse> {
    return this.wire.open(request, (buffer) => meta.zeroAfterReply?.(buffer));
  }
}
