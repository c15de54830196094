import { DomainError } from '@sealbox/platform';
import { constants, createDecipheriv, createPrivateKey, generateKeyPair, privateDecrypt, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { decodeBase64, decodeExact, zero } from './binary.js';

/** Imported root keys are AES-256: exactly 32 bytes. */
export const KEY_MATERIAL_BYTES = 32;
export const IMPORT_NONCE_BYTES = 16;
const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;

/** The lifecycle fields of an instance's import token (times in epoch ms). */
export interface ImportTokenState {
  readonly expiresAt: number;
  readonly remainingRetrievals: number;
}

export function requireUnexpired(token: ImportTokenState, now: number): void {
  if (now >= token.expiresAt) {
    throw new DomainError('IMPORT_TOKEN_EXPIRED', 'The import token of this instance has expired: create a new one');
  }
}

/** GET import_token: unexpired, and retrievals left. */
export function requireRetrievable(token: ImportTokenState, now: number): void {
  requireUnexpired(token, now);
  if (token.remainingRetrievals <= 0) {
    throw new DomainError('IMPORT_TOKEN_EXHAUSTED', 'The import token of this instance was retrieved as many times as it allows: create a new one');
  }
}

export interface ImportKeyPair {
  /** SPKI PEM: what GET import_token returns (base64 of it). */
  readonly publicKeyPem: string;
  /** PKCS#8 DER; the caller seals it and zeroes this buffer. */
  readonly privateKeyDer: Buffer;
  readonly nonce: Buffer;
}

const generateRsa = promisify(generateKeyPair);

export async function generateImportKeyPair(modulusBits: number): Promise<ImportKeyPair> {
  const { publicKey, privateKey } = await generateRsa('rsa', {
    modulusLength: modulusBits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  return { publicKeyPem: publicKey, privateKeyDer: privateKey, nonce: randomBytes(IMPORT_NONCE_BYTES) };
}

export type OaepAlgorithm = 'RSAES_OAEP_SHA_256' | 'RSAES_OAEP_SHA_1';

export interface TokenImport {
  /** RSA-OAEP ciphertext of the 32-byte key material under the token's public key, base64. */
  readonly payload: string;
  /** The token's nonce, AES-256-GCM-encrypted under the key material: `ciphertext ‖ 16-byte tag`, base64. */
  readonly encryptedNonce: string;
  /** The 12-byte GCM IV of `encryptedNonce`, base64. */
  readonly iv: string;
  readonly encryptionAlgorithm?: OaepAlgorithm | undefined;
}

const invalid = (message: string) => new DomainError('INVALID_KEY_MATERIAL', message);

/**
 * Key Protect "secure import": recover the key material from `payload` with the token's private key
 * (RSA-OAEP, SHA-256 unless `RSAES_OAEP_SHA_1`), then prove the importer holds it: `encryptedNonce`
 * must be the token's nonce encrypted with AES-256-GCM under that material. Returns the 32-byte
 * material (the caller zeroes it); INVALID_KEY_MATERIAL for anything that does not check out.
 */
export function openTokenImport(request: TokenImport, privateKeyDer: Buffer, nonce: Buffer): Buffer {
  const payload = decodeBase64(request.payload, 'payload', 'INVALID_KEY_MATERIAL');
  const iv = decodeExact(request.iv, GCM_IV_BYTES, 'iv', 'INVALID_KEY_MATERIAL');
  const sealedNonce = decodeBase64(request.encryptedNonce, 'encryptedNonce', 'INVALID_KEY_MATERIAL');
  if (sealedNonce.length <= GCM_TAG_BYTES) throw invalid('The encryptedNonce must be the GCM ciphertext of the nonce followed by its 16-byte tag');

  let material: Buffer;
  try {
    const key = createPrivateKey({ key: privateKeyDer, format: 'der', type: 'pkcs8' });
    material = privateDecrypt(
      { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: request.encryptionAlgorithm === 'RSAES_OAEP_SHA_1' ? 'sha1' : 'sha256' },
      payload,
    );
  } catch {
    throw invalid('The payload does not decrypt with the import token of this instance (RSA-OAEP with its public key)');
  }
  if (material.length !== KEY_MATERIAL_BYTES) {
    const length = material.length;
    zero(material);
    throw invalid(`The imported key material must be exactly ${KEY_MATERIAL_BYTES} bytes (got ${length})`);
  }

  let opened: Buffer | undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', material, iv);
    decipher.setAuthTag(sealedNonce.subarray(sealedNonce.length - GCM_TAG_BYTES));
    opened = Buffer.concat([decipher.update(sealedNonce.subarray(0, sealedNonce.length - GCM_TAG_BYTES)), decipher.final()]);
  } catch {
    opened = undefined;
  }
  const matches = opened !== undefined && opened.length === nonce.length && timingSafeEqual(opened, nonce);
  if (!matches) {
    zero(material);
    throw invalid('The encryptedNonce is not the import token nonce encrypted (AES-256-GCM) under the imported key material');
  }
  return material;
}
