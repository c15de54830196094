import type { SealType, UnsealSource } from '../unseal-source.js';
import { devKeySource } from './dev-key.js';
import { passphraseSource } from './passphrase.js';
import { shamirSource } from './shamir.js';

export * from './dev-key.js';
export * from './passphrase.js';
export * from './shamir.js';

/** Every kind of unseal secret, one line each: the one registry the key store reads its kinds from. */
export type UnsealSources = { readonly [T in SealType]: UnsealSource<unknown, unknown> };

export function unsealSources(options: { readonly scryptLogN?: number } = {}): UnsealSources {
  return {
    passphrase: passphraseSource(options.scryptLogN === undefined ? {} : { logN: options.scryptLogN }) as UnsealSource<unknown, unknown>,
    shamir: shamirSource as UnsealSource<unknown, unknown>,
    'dev-key': devKeySource as UnsealSource<unknown, unknown>,
  };
}
