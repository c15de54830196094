import { randomBytes, scrypt, type ScryptOptions } from 'node:crypto';
import { SealWire } from '@sealbox/contracts';
import { z } from 'zod';
import { SEAL_KEY_BYTES } from '../aead.js';
import { unsealFailed, type UnsealSource } from '../unseal-source.js';

/** scrypt N = 2^17, r = 8: 128 MiB and about half a second per attempt (the OWASP minimum is 2^17). */
export const DEFAULT_SCRYPT_LOG_N = 17;
export const MIN_SCRYPT_LOG_N = 14;
const SALT_BYTES = 16;

export const PassphraseParams = z.object({
  kdf: z.literal('scrypt'),
  logN: z.number().int().min(MIN_SCRYPT_LOG_N).max(22),
  r: z.number().int().min(8).max(32),
  p: z.number().int().min(1).max(16),
  salt: z.string().min(1),
});
export type PassphraseParams = z.infer<typeof PassphraseParams>;

function deriveKey(passphrase: string, salt: Buffer, params: Pick<PassphraseParams, 'logN' | 'r' | 'p'>): Promise<Buffer> {
  const N = 2 ** params.logN;
  // scrypt needs 128 * N * r bytes; leave room for the rest.
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 128 * N * params.r + 32 * 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize('NFC'), salt, SEAL_KEY_BYTES, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/**
 * A passphrase stretched by scrypt (memory-hard) with a random salt; the salt and the cost are
 * stored, so a later cost change does not lock out existing stores. One input unseals.
 */
export function passphraseSource(options: { readonly logN?: number } = {}): UnsealSource<SealWire.PassphraseInit, PassphraseParams> {
  const logN = options.logN ?? DEFAULT_SCRYPT_LOG_N;
  if (logN < MIN_SCRYPT_LOG_N) throw new Error(`scrypt cost 2^${logN} is below the minimum 2^${MIN_SCRYPT_LOG_N}`);
  return {
    type: 'passphrase',
    initSchema: SealWire.PassphraseInit,
    paramsSchema: PassphraseParams,
    async create(init) {
      const salt = randomBytes(SALT_BYTES);
      const params: PassphraseParams = { kdf: 'scrypt', logN, r: 8, p: 1, salt: salt.toString('base64') };
      return { kek: await deriveKey(init.passphrase, salt, params), params, handout: [] };
    },
    required: () => 1,
    pieces: () => 1,
    accept(_params, input) {
      if (input.length === 0 || input.length > 1024) throw unsealFailed('This is not a passphrase');
    },
    derive(params, inputs) {
      return deriveKey(inputs[0] ?? '', Buffer.from(params.salt, 'base64'), params);
    },
  };
}
