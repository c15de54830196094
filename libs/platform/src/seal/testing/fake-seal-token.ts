import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DomainError } from '../../errors/index.js';
import type { SealToken } from '../sources/pkcs11.js';

/**
 * A SealToken in memory for tests whose subject is not the token (the source's logic, the key
 * store): AES-256-GCM keys by label, failures as the PKCS#11 adapter reports them. `unavailable`
 * makes every call SEAL_TOKEN_UNAVAILABLE, as a token that is gone.
 */
export class FakeSealToken implements SealToken {
  readonly keys = new Map<string, Buffer>();
  unavailable = false;
  calls = 0;

  constructor(readonly tokenLabel = 'fake-token') {}

  async ensureKey(keyLabel: string): Promise<void> {
    this.check();
    if (!this.keys.has(keyLabel)) this.keys.set(keyLabel, randomBytes(32));
  }

  async encrypt(keyLabel: string, plaintext: Buffer, aad: Buffer): Promise<Buffer> {
    const key = this.key(keyLabel);
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(aad);
    return Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  }

  async decrypt(keyLabel: string, sealed: Buffer, aad: Buffer): Promise<Buffer> {
    const key = this.key(keyLabel);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
      decipher.setAAD(aad);
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
    } catch {
      throw new DomainError('UNSEAL_FAILED', `The key ${keyLabel} of token ${this.tokenLabel} does not open this key store`);
    }
  }

  private key(keyLabel: string): Buffer {
    this.check();
    const key = this.keys.get(keyLabel);
    if (!key) throw new DomainError('SEAL_TOKEN_KEY_NOT_FOUND', `The PKCS#11 token ${this.tokenLabel} has no key labelled ${keyLabel}`);
    return key;
  }

  private check(): void {
    this.calls += 1;
    if (this.unavailable) throw new DomainError('SEAL_TOKEN_UNAVAILABLE', `The PKCS#11 token ${this.tokenLabel} cannot be used for the seal`);
  }
}
