import { DomainError } from '@sealbox/platform';

/** 400 ENVELOPE_INVALID: the bytes are not a well-formed v1 envelope. Never names secret material. */
export const envelopeInvalid = (reason: string) => new DomainError('ENVELOPE_INVALID', `The envelope is invalid: ${reason}`);

/** 422 INTEGRITY_FAILED: the envelope is well-formed but does not authenticate under this key and context. */
export const integrityFailed = (reason: string) =>
  new DomainError('INTEGRITY_FAILED', `The envelope does not open with this key and context: ${reason}`);
