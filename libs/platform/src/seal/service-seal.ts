import { mkdir } from 'node:fs/promises';
import type { Clock } from '../time/index.js';
import type { KeyProtector } from './aead.js';
import { SealKeeper } from './keeper.js';
import { readSecretFile } from './secret-file.js';
import { unsealSources, type Pkcs11SealOptions } from './sources/index.js';

export interface ServiceSealOptions {
  /** Private directory of the service's seal (`seal.json`); created 0700. */
  readonly directory: string;
  readonly clock: Clock;
  /** The passphrase file (0600) and the name of its setting, for messages. */
  readonly passphraseFile?: { readonly path: string; readonly setting: string };
  /** The PKCS#11 token of auto-unseal (libs/hsm `pkcs11SealOptionsFrom`). */
  readonly pkcs11?: Pkcs11SealOptions;
  /** Cost of the passphrase KDF (scrypt 2^N) for a new seal; tests lower it (minimum 14). */
  readonly scryptLogN?: number;
}

/**
 * The seal of a distributed service that keeps a master key on disk (iam), with no operator at
 * hand: on the first start the seal is initialised with the PKCS#11 token when one is configured
 * (auto-unseal), else with the passphrase of the file; every start unseals it the same way. Throws
 * (the caller exits with one line; a DomainError carries the code: UNSEAL_FAILED, SEAL_TOKEN_*) when
 * the configured secret does not open it: the master keys then stay wrapped on disk. Initialise it with ONE replica: two first starts would make two root keys.
 */
export async function unsealServiceSeal(options: ServiceSealOptions): Promise<KeyProtector> {
  await mkdir(options.directory, { recursive: true, mode: 0o700 });
  const keeper = await SealKeeper.open({ directory: options.directory, sources: unsealSources({ ...(options.pkcs11 ? { pkcs11: options.pkcs11 } : {}), ...(options.scryptLogN ? { scryptLogN: options.scryptLogN } : {}) }), clock: options.clock });
  const passphrase = options.passphraseFile ? await readSecretFile(options.passphraseFile.path, options.passphraseFile.setting) : undefined;
  if (!keeper.initialized) {
    if (options.pkcs11) await keeper.initialize('pkcs11', {});
    else if (passphrase !== undefined) await keeper.initialize('passphrase', { passphrase });
    else throw new Error(`${options.directory}: no unseal secret configured (a PKCS#11 token or a passphrase file)`);
  }
  if (keeper.type === 'pkcs11') {
    // DomainErrors with their code (SEAL_TOKEN_KEY_NOT_FOUND...), which the caller's one line names.
    await keeper.autoUnseal();
  } else if (keeper.type === 'passphrase' && passphrase !== undefined) {
    await keeper.unseal(passphrase);
  } else {
    throw new Error(`${keeper.path} is sealed by ${keeper.type ?? 'nothing'}, which the configuration does not provide`);
  }
  return keeper.protector();
}
