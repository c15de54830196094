import { constants, createCipheriv, publicEncrypt, randomBytes } from 'node:crypto';

/**
 * What a Key Protect client does for a "secure import" (as the KP docs and tools describe it): the
 * key material RSA-OAEP-encrypted with the import token's public key (`payload`), and the token's
 * nonce AES-256-GCM-encrypted under the material (`encryptedNonce` = ciphertext ‖ tag, `iv` 12 bytes).
 */
export function secureImportFields(
  material: Buffer,
  token: { publicKeyPem: string; nonce: Buffer },
  options: { hash?: 'sha256' | 'sha1'; iv?: Buffer } = {},
): { payload: string; encryptedNonce: string; iv: string } {
  const payload = publicEncrypt(
    { key: token.publicKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: options.hash ?? 'sha256' },
    material,
  );
  const iv = options.iv ?? randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', material, iv);
  const sealed = Buffer.concat([cipher.update(token.nonce), cipher.final(), cipher.getAuthTag()]);
  return { payload: payload.toString('base64'), encryptedNonce: sealed.toString('base64'), iv: iv.toString('base64') };
}
