import { DomainError, readSecretFileSync, unsealFailed, type Pkcs11SealOptions, type SealPkcs11Settings, type SealToken } from '@sealbox/platform';
import type { z } from 'zod';
import { HsmError, HsmKeyExistsError, HsmKeyNotFoundError, HsmUnavailableError, type Hsm } from '../hsm.js';
import { Pkcs11Hsm, type Pkcs11HsmOptions } from './pkcs11-hsm.js';
import type { ModuleRegistry } from './shared-module.js';

/** HSM failures as the seal reports them (the PIN and key material never appear in them). */
function sealTokenError(error: unknown, tokenLabel: string, keyLabel: string): unknown {
  if (!(error instanceof HsmError)) return error;
  if (error instanceof HsmKeyNotFoundError) {
    return new DomainError(
      'SEAL_TOKEN_KEY_NOT_FOUND',
      `The PKCS#11 token ${tokenLabel} has no key labelled ${keyLabel} (check SEALBOX_SEAL_PKCS11_KEY_LABEL and the token)`,
    );
  }
  if (error.code === 'INTEGRITY') return unsealFailed(`The key ${keyLabel} of token ${tokenLabel} does not open this key store`);
  if (error instanceof HsmUnavailableError) {
    return new DomainError('SEAL_TOKEN_UNAVAILABLE', `The PKCS#11 token ${tokenLabel} cannot be used for the seal: ${error.message}`);
  }
  return new DomainError('SEAL_TOKEN_UNAVAILABLE', `The PKCS#11 token ${tokenLabel} failed: ${error.message}`);
}

/**
 * The seal's token on the PKCS#11 backend: every call opens the token (module, label, login with
 * the PIN), runs inside it with the non-extractable key (generated with the backend's token key
 * template: sensitive, not extractable, not modifiable) and closes it again, so no session of the
 * seal stays open beside the services'. Encryption is the backend's CKM_AES_GCM.
 */
export function pkcs11SealToken(options: Pkcs11HsmOptions, modules?: ModuleRegistry): SealToken {
  const withHsm = async <T>(keyLabel: string, use: (hsm: Hsm) => Promise<T>): Promise<T> => {
    const hsm = new Pkcs11Hsm({ ...options, maxSessions: 1, unwrappedKeysPerSession: 0 }, modules);
    try {
      return await use(hsm);
    } catch (error) {
      throw sealTokenError(error, options.tokenLabel, keyLabel);
    } finally {
      await hsm.close();
    }
  };
  return {
    tokenLabel: options.tokenLabel,
    ensureKey: (keyLabel) =>
      withHsm(keyLabel, async (hsm) => {
        if (await hsm.hasKey(keyLabel)) return;
        try {
          await hsm.generateKey(keyLabel);
        } catch (error) {
          // Made meanwhile by another process: use it.
          if (!(error instanceof HsmKeyExistsError)) throw error;
        }
      }),
    encrypt: (keyLabel, plaintext, aad) => withHsm(keyLabel, (hsm) => hsm.encrypt({ label: keyLabel }, plaintext, aad)),
    decrypt: (keyLabel, sealed, aad) => withHsm(keyLabel, (hsm) => hsm.decrypt({ label: keyLabel }, sealed, aad)),
  };
}

type SealPkcs11Config = z.output<z.ZodObject<typeof SealPkcs11Settings>>;

/**
 * The auto-unseal token of SEALBOX_SEAL_PKCS11_* (undefined when no token label is set). The PIN is
 * read here, at start, from its 0600 file (a link or a file others may read is refused), and goes to
 * the module only.
 */
export function pkcs11SealOptionsFrom(config: SealPkcs11Config, modules?: ModuleRegistry): Pkcs11SealOptions | undefined {
  const tokenLabel = config.SEALBOX_SEAL_PKCS11_TOKEN_LABEL;
  if (tokenLabel === undefined) {
    if (config.SEALBOX_SEAL_PKCS11_PIN_FILE !== undefined) throw new Error('SEALBOX_SEAL_PKCS11_PIN_FILE is set without SEALBOX_SEAL_PKCS11_TOKEN_LABEL');
    return undefined;
  }
  if (config.SEALBOX_SEAL_PKCS11_PIN_FILE === undefined) throw new Error('SEALBOX_SEAL_PKCS11_TOKEN_LABEL is set: SEALBOX_SEAL_PKCS11_PIN_FILE (the token PIN, mode 0600) is required');
  const pin = readSecretFileSync(config.SEALBOX_SEAL_PKCS11_PIN_FILE, 'SEALBOX_SEAL_PKCS11_PIN_FILE');
  return {
    token: pkcs11SealToken({ library: config.SEALBOX_SEAL_PKCS11_LIBRARY, tokenLabel, pin }, modules),
    keyLabel: config.SEALBOX_SEAL_PKCS11_KEY_LABEL,
  };
}
