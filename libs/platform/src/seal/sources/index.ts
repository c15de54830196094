import type { SealType, UnsealSource } from '../unseal-source.js';
import { devKeySource } from './dev-key.js';
import { passphraseSource } from './passphrase.js';
import { pkcs11Source, type Pkcs11SealOptions } from './pkcs11.js';
import { shamirSource } from './shamir.js';

export * from './dev-key.js';
export * from './passphrase.js';
export * from './pkcs11.js';
export * from './shamir.js';

/** Every kind of unseal secret, one line each: the one registry the key store reads its kinds from. */
export type UnsealSources = { readonly [T in SealType]: UnsealSource<unknown, unknown> };

export interface UnsealSourcesOptions {
  readonly scryptLogN?: number;
  /** The PKCS#11 token of auto-unseal (libs/hsm `pkcs11SealOptionsFrom`); absent: pkcs11 is SEAL_TOKEN_NOT_CONFIGURED. */
  readonly pkcs11?: Pkcs11SealOptions;
}

export function unsealSources(options: UnsealSourcesOptions = {}): UnsealSources {
  return {
    passphrase: passphraseSource(options.scryptLogN === undefined ? {} : { logN: options.scryptLogN }) as UnsealSource<unknown, unknown>,
    shamir: shamirSource as UnsealSource<unknown, unknown>,
    'dev-key': devKeySource as UnsealSource<unknown, unknown>,
    pkcs11: pkcs11Source(options.pkcs11) as UnsealSource<unknown, unknown>,
  };
}
