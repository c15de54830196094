import { randomBytes } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import { SealWire } from '@sealbox/contracts';
import { z } from 'zod';
import { SEAL_KEY_BYTES } from '../aead.js';
import { decodeBase64Exactly, unsealFailed, type UnsealSource } from '../unseal-source.js';

/** A share is the 32 bytes of the polynomials at x, then x (one byte), in base64. */
const SHARE_BYTES = SEAL_KEY_BYTES + 1;
export const ShamirParams = z.object({ shares: z.number().int().min(2).max(SealWire.MAX_SHARES), threshold: z.number().int().min(2).max(SealWire.MAX_SHARES) });
export type ShamirParams = z.infer<typeof ShamirParams>;

const xOf = (share: string) => Buffer.from(share.trim(), 'base64')[SEAL_KEY_BYTES];

/**
 * Shamir's secret sharing over GF(256) (the audited `shamir-secret-sharing` package, Vault's
 * tables): a random KEK is split into n shares, any k of them give it back, fewer reveal nothing.
 * Operators submit their share one at a time; the shares are shown once at init and never stored.
 */
export const shamirSource: UnsealSource<SealWire.ShamirInit, ShamirParams> = {
  type: 'shamir',
  initSchema: SealWire.ShamirInit,
  paramsSchema: ShamirParams,
  async create(init) {
    const kek = randomBytes(SEAL_KEY_BYTES);
    const shares = await split(new Uint8Array(kek), init.secret_shares, init.secret_threshold);
    const handout = shares.map((share) => Buffer.from(share).toString('base64'));
    for (const share of shares) share.fill(0);
    return { kek, params: { shares: init.secret_shares, threshold: init.secret_threshold }, handout };
  },
  required: (params) => params.threshold,
  pieces: (params) => params.shares,
  accept(_params, input, previous) {
    const share = decodeBase64Exactly(input, SHARE_BYTES, 'unseal key share');
    const x = share[SEAL_KEY_BYTES];
    share.fill(0);
    if (x === 0) throw unsealFailed('This is not an unseal key share');
    if (previous.some((other) => xOf(other) === x)) throw unsealFailed('This share was already given in this unseal');
  },
  async derive(_params, inputs) {
    const shares = inputs.map((input) => new Uint8Array(Buffer.from(input.trim(), 'base64')));
    try {
      const kek = Buffer.from(await combine(shares));
      if (kek.length !== SEAL_KEY_BYTES) throw unsealFailed('The shares do not combine to an unseal key');
      return kek;
    } finally {
      for (const share of shares) share.fill(0);
    }
  },
};
