import pkcs11js from 'pkcs11js';
import { HsmError, HsmUnavailableError } from '../hsm.js';

/** How a PKCS#11 failure is reported and whether the module must be re-initialized. */

/** The return value of a failed PKCS#11 call, or undefined when the error is not one (load failure...). */
export function ckr(error: unknown): number | undefined {
  if (error instanceof pkcs11js.Pkcs11Error) return error.code;
  return undefined;
}

function ckrName(code: number): string {
  for (const [name, value] of Object.entries(pkcs11js)) {
    if (name.startsWith('CKR_') && value === code) return name;
  }
  return `CKR_0x${code.toString(16)}`;
}

/**
 * Module, token or session failures: the call reports HsmUnavailableError and the module is
 * finalized and initialized again before the next call (SoftHSM2 only sees a token that came back,
 * or a new token, after a new C_Initialize).
 */
const RESET = new Set<number>([
  pkcs11js.CKR_GENERAL_ERROR,
  pkcs11js.CKR_FUNCTION_FAILED,
  pkcs11js.CKR_DEVICE_ERROR,
  pkcs11js.CKR_DEVICE_MEMORY,
  pkcs11js.CKR_DEVICE_REMOVED,
  pkcs11js.CKR_TOKEN_NOT_PRESENT,
  pkcs11js.CKR_TOKEN_NOT_RECOGNIZED,
  pkcs11js.CKR_SESSION_HANDLE_INVALID,
  pkcs11js.CKR_SESSION_CLOSED,
  pkcs11js.CKR_CRYPTOKI_NOT_INITIALIZED,
  pkcs11js.CKR_USER_NOT_LOGGED_IN,
  pkcs11js.CKR_SLOT_ID_INVALID,
]);

/** Unavailable for now, but nothing a re-initialization would fix. */
const BUSY = new Set<number>([pkcs11js.CKR_SESSION_COUNT, pkcs11js.CKR_HOST_MEMORY, pkcs11js.CKR_CANT_LOCK]);

/** Refused PIN: never retried automatically, a real HSM locks the PIN after a few wrong tries. */
export const LOGIN_REFUSED = new Set<number>([
  pkcs11js.CKR_PIN_INCORRECT,
  pkcs11js.CKR_PIN_INVALID,
  pkcs11js.CKR_PIN_LEN_RANGE,
  pkcs11js.CKR_PIN_EXPIRED,
  pkcs11js.CKR_PIN_LOCKED,
]);

/** A handle that no longer names an object: destroyed elsewhere, the user logged out, the token changed. */
export const HANDLE_INVALID = new Set<number>([
  pkcs11js.CKR_OBJECT_HANDLE_INVALID,
  pkcs11js.CKR_KEY_HANDLE_INVALID,
  pkcs11js.CKR_WRAPPING_KEY_HANDLE_INVALID,
  pkcs11js.CKR_UNWRAPPING_KEY_HANDLE_INVALID,
]);

/** What a failed decrypt says about data that does not authenticate (SoftHSM2 says GENERAL_ERROR). */
export const DATA_INVALID = new Set<number>([
  pkcs11js.CKR_ENCRYPTED_DATA_INVALID,
  pkcs11js.CKR_ENCRYPTED_DATA_LEN_RANGE,
  pkcs11js.CKR_GENERAL_ERROR,
  pkcs11js.CKR_FUNCTION_FAILED,
]);

/** What a failed unwrap says about a blob that does not authenticate. */
export const WRAPPED_INVALID = new Set<number>([
  pkcs11js.CKR_WRAPPED_KEY_INVALID,
  pkcs11js.CKR_WRAPPED_KEY_LEN_RANGE,
  pkcs11js.CKR_GENERAL_ERROR,
  pkcs11js.CKR_FUNCTION_FAILED,
]);

/** An HsmUnavailableError after which the module is re-initialized. */
export class ModuleResetError extends HsmUnavailableError {}

/** Translate anything a PKCS#11 call threw into an HsmError (HsmErrors pass through). */
export function toHsmError(error: unknown, action: string): HsmError {
  if (error instanceof HsmError) return error;
  const code = ckr(error);
  if (code === undefined) {
    // Not a PKCS#11 return value: the library did not load, or the binding failed.
    return new ModuleResetError(`The HSM is unavailable (${action}: ${error instanceof Error ? error.message : String(error)})`);
  }
  const name = ckrName(code);
  if (RESET.has(code)) return new ModuleResetError(`The HSM is unavailable (${action}: ${name})`);
  if (BUSY.has(code)) return new HsmUnavailableError(`The HSM is unavailable (${action}: ${name})`);
  if (LOGIN_REFUSED.has(code)) {
    return new HsmUnavailableError(`The HSM refused the configured PIN (${name}); fix the configuration and restart`);
  }
  return new HsmError(`The HSM failed (${action}: ${name})`);
}
