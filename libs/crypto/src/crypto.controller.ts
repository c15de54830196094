import { Controller } from '@nestjs/common';
import type { HealthResponse } from '@sealbox/contracts';
import { healthReport, RpcHandler } from '@sealbox/platform';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  EnvelopeService,
  type OpenRequest,
  type OpenResponse,
  type SealRequest,
  type SealResponse,
} from './envelope/envelope.service.js';

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

@Controller()
export class CryptoRpcController {
  constructor(private readonly envelopes: EnvelopeService) {}

  @RpcHandler('crypto.health')
  async health(): Promise<HealthResponse> {
    return healthReport('crypto', { aead: aeadSelfTest });
  }

  @RpcHandler('crypto.envelope.seal')
  async seal(request: SealRequest): Promise<SealResponse> {
    return this.envelopes.seal(request);
  }

  @RpcHandler('crypto.envelope.open')
  async open(request: OpenRequest): Promise<OpenResponse> {
    return this.envelopes.open(request);
  }
}
