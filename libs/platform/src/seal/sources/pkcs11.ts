import { randomBytes } from 'node:crypto';
import { SealWire } from '@sealbox/contracts';
import { z } from 'zod';
import { DomainError } from '../../errors/index.js';
import { SEAL_KEY_BYTES } from '../aead.js';
import { unsealFailed, type UnsealSource } from '../unseal-source.js';

/**
 * The PKCS#11 token an auto-unseal store is sealed by, as the seal sees it: one non-extractable
 * AES-256 key found by label, used for AES-GCM (CKM_AES_GCM) inside the token. The adapter
 * (libs/hsm `pkcs11SealToken`) owns the module, the session and the PIN, and reports failures as
 * DomainErrors: SEAL_TOKEN_KEY_NOT_FOUND (no such key), SEAL_TOKEN_UNAVAILABLE (module or token
 * unreachable, PIN refused), UNSEAL_FAILED (the ciphertext does not authenticate under that key).
 */
export interface SealToken {
  /** The token's label, stored in seal.json to name it in messages (public). */
  readonly tokenLabel: string;
  /** Use the key `keyLabel`, generating it (non-extractable, sensitive) if the token has none. */
  ensureKey(keyLabel: string): Promise<void>;
  /** AES-256-GCM in the token: `nonce || ciphertext || tag`, `aad` bound. */
  encrypt(keyLabel: string, plaintext: Buffer, aad: Buffer): Promise<Buffer>;
  /** Inverse of `encrypt`; the caller zeroes the result. */
  decrypt(keyLabel: string, sealed: Buffer, aad: Buffer): Promise<Buffer>;
}

export interface Pkcs11SealOptions {
  readonly token: SealToken;
  /** Label of the token key that wraps the KEK (SEALBOX_SEAL_PKCS11_KEY_LABEL). */
  readonly keyLabel: string;
}

export const Pkcs11Params = z.object({
  mechanism: z.literal('CKM_AES_GCM'),
  /** The token and key the store was sealed with (public; the configured ones are used to unseal). */
  tokenLabel: z.string().min(1).max(32),
  keyLabel: z.string().min(1).max(128),
  /** base64 of the token's AES-GCM of the KEK (nonce || ciphertext || tag); only the token key opens it. */
  wrappedKek: z.string().min(1),
});
export type Pkcs11Params = z.infer<typeof Pkcs11Params>;

const kekContext = (keyLabel: string) => Buffer.from(`sealbox-seal/v1/pkcs11-kek\u0000${keyLabel}`, 'utf8');

export const sealTokenNotConfigured = () =>
  new DomainError(
    'SEAL_TOKEN_NOT_CONFIGURED',
    'No PKCS#11 token is configured for the seal: set SEALBOX_SEAL_PKCS11_TOKEN_LABEL, SEALBOX_SEAL_PKCS11_PIN_FILE (and SEALBOX_SEAL_PKCS11_KEY_LABEL), then restart',
  );

/**
 * Auto-unseal with a key held by a PKCS#11 token (Vault's "seal wrap" with an HSM): a random KEK is
 * encrypted by a non-extractable AES-256 key inside the token (CKM_AES_GCM, bound to the key label)
 * and stored, so encrypted, in seal.json; unsealing asks the token to decrypt it, with no operator
 * input. A copy of the data directory without the token (and its PIN) holds only ciphertext.
 * Without `options` (no token configured) every use is SEAL_TOKEN_NOT_CONFIGURED.
 */
export function pkcs11Source(options: Pkcs11SealOptions | undefined): UnsealSource<SealWire.Pkcs11Init, Pkcs11Params> {
  const configured = (): Pkcs11SealOptions => {
    if (!options) throw sealTokenNotConfigured();
    return options;
  };
  return {
    type: 'pkcs11',
    auto: true,
    initSchema: SealWire.Pkcs11Init,
    paramsSchema: Pkcs11Params,
    async create() {
      const { token, keyLabel } = configured();
      await token.ensureKey(keyLabel);
      const kek = randomBytes(SEAL_KEY_BYTES);
      try {
        const wrapped = await token.encrypt(keyLabel, kek, kekContext(keyLabel));
        return { kek, params: { mechanism: 'CKM_AES_GCM', tokenLabel: token.tokenLabel, keyLabel, wrappedKek: wrapped.toString('base64') }, handout: [] };
      } catch (error) {
        kek.fill(0);
        throw error;
      }
    },
    required: () => 0,
    pieces: () => 1,
    accept() {
      throw unsealFailed('This key store unseals from its PKCS#11 token, with no key: send an empty unseal request ({}) or restart');
    },
    async derive(params) {
      const { token, keyLabel } = configured();
      let kek: Buffer;
      try {
        kek = await token.decrypt(keyLabel, Buffer.from(params.wrappedKek, 'base64'), kekContext(keyLabel));
      } catch (error) {
        if (error instanceof DomainError && error.code === 'UNSEAL_FAILED') {
          throw unsealFailed(
            `The key ${keyLabel} of token ${token.tokenLabel} does not open this key store (it was sealed with the key ${params.keyLabel} of token ${params.tokenLabel})`,
          );
        }
        throw error;
      }
      if (kek.length !== SEAL_KEY_BYTES) {
        kek.fill(0);
        throw unsealFailed('The token returned a key of an unexpected size');
      }
      return kek;
    },
  };
}
