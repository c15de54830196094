/**
 * Key Protect's secure import, done in the browser with WebCrypto: the root key material is
 * encrypted under the import token's RSA public key (RSA-OAEP SHA-256), and the token's nonce under
 * the key material (AES-256-GCM), so the material never travels in the clear, not even to Sealbox's
 * own HTTP edge.
 */
import type { KmsWire } from '@sealbox/contracts';
import type { Session } from './api.js';

const bytesOf = (base64: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
const base64Of = (bytes: ArrayBuffer | Uint8Array): string => btoa(String.fromCharCode(...new Uint8Array(bytes)));

/** The fields of a key-create resource that import `material` (base64) with a fresh import token. */
export async function importWithToken(session: Session, instance: string, material: string): Promise<Record<string, string>> {
  const headers = { 'bluemix-instance': instance };
  await session.request('POST', '/kms/api/v2/import_token', { headers, body: { expiration: 600, maxAllowedRetrievals: 1 } });
  const token = await session.request<KmsWire.ImportToken>('GET', '/kms/api/v2/import_token', { headers });
  const pem = atob(token.payload);
  const der = bytesOf(pem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, '').replace(/\s+/g, ''));
  const publicKey = await crypto.subtle.importKey('spki', der, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['encrypt']);
  const keyBytes = bytesOf(material);
  if (keyBytes.length !== 32) throw new Error('A root key to import is 32 bytes (44 characters of base64)');
  const ciphertext = await crypto.subtle.encrypt({ name: 'RSA-OAEP' }, publicKey, keyBytes);
  const aes = await crypto.subtle.importKey('raw', keyBytes, 'AES-GCM', false, ['encrypt']);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const encryptedNonce = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, aes, bytesOf(token.nonce));
  keyBytes.fill(0);
  return { payload: base64Of(ciphertext), encryptedNonce: base64Of(encryptedNonce), iv: base64Of(iv), encryptionAlgorithm: 'RSAES_OAEP_SHA_256' };
}
