import type { ErrorCode } from '@sealbox/contracts';
import { HsmError } from '@sealbox/hsm';
import { ProviderError } from '@sealbox/kms-plugins';
import { DomainError } from '@sealbox/platform';
import { integrityFailed } from './ciphertext.js';

/** What a failing provider or HSM call was doing, for the message and the code of bad material. */
export interface FailureContext {
  /** The code for material the provider refuses (a data key to wrap, imported key material). */
  readonly invalidMaterial?: ErrorCode;
}

/**
 * Translate a provider or HSM failure into the DomainError the caller sees: not initialised → 409
 * INSTANCE_NOT_INITIALIZED, does not authenticate → 422 INTEGRITY_FAILED, HSM down → 503
 * SERVICE_UNAVAILABLE. Anything else is rethrown unchanged (an unexpected error: 500, logged).
 */
export function domainErrorOf(error: unknown, context: FailureContext = {}): unknown {
  if (error instanceof DomainError) return error;
  if (error instanceof ProviderError) {
    switch (error.code) {
      case 'NOT_INITIALIZED':
        return new DomainError('INSTANCE_NOT_INITIALIZED', 'The instance master key is not loaded: complete the key ceremony first');
      case 'INTEGRITY':
        return integrityFailed();
      case 'UNAVAILABLE':
        return new DomainError('SERVICE_UNAVAILABLE', 'The HSM is unavailable; retry later');
      case 'INVALID_PART':
        return new DomainError('VALIDATION_FAILED', `The master key part is invalid: ${error.message}`, [{ field: 'part', message: error.message }]);
      case 'DUPLICATE_IDENTITY':
        return new DomainError('CONFLICT', 'You already loaded a master key part: each part must come from a different identity');
      case 'NOT_APPLICABLE':
        return new DomainError('CONFLICT', error.message);
      case 'INVALID_MATERIAL':
        return new DomainError(context.invalidMaterial ?? 'INVALID_KEY_MATERIAL', error.message);
    }
  }
  if (error instanceof HsmError) {
    switch (error.code) {
      case 'UNAVAILABLE':
        return new DomainError('SERVICE_UNAVAILABLE', 'The HSM is unavailable; retry later');
      case 'INTEGRITY':
        return integrityFailed();
      default:
        return error;
    }
  }
  return error;
}

/** Run a provider/HSM call, translating its failures. */
export async function viaProvider<T>(call: () => Promise<T>, context: FailureContext = {}): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw domainErrorOf(error, context);
  }
}
