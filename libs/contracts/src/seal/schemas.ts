/**
 * The seal endpoints' bodies (`/v1/sys/*`, a Sealbox extension modelled on Vault's `sys/seal-status`,
 * `sys/init`, `sys/unseal`, `sys/seal`, `sys/rekey`, `sys/rotate`): the gateway documents and checks
 * them, the key store validates the unseal secret kinds with them, the CLI reads the answers.
 */
import { z } from 'zod';

/** The kinds of unseal secret (libs/platform seal sources, one per kind). */
export const SealTypes = ['passphrase', 'shamir', 'dev-key', 'pkcs11'] as const;
export type SealType = (typeof SealTypes)[number];

export const MIN_PASSPHRASE_LENGTH = 12;
export const MAX_SHARES = 16;

export const PassphraseInit = z.object({
  passphrase: z
    .string()
    .min(MIN_PASSPHRASE_LENGTH, `must be at least ${MIN_PASSPHRASE_LENGTH} characters`)
    .max(1024)
    .describe(`The unseal passphrase (at least ${MIN_PASSPHRASE_LENGTH} characters); never stored, only its scrypt salt and cost`),
});
export type PassphraseInit = z.infer<typeof PassphraseInit>;

/** The fields of a Shamir init (without the threshold <= shares check: see ShamirInit). */
export const ShamirInitShape = z.object({
  secret_shares: z.number().int().min(2).max(MAX_SHARES).describe('How many unseal key shares to make (n)'),
  secret_threshold: z.number().int().min(2).max(MAX_SHARES).describe('How many shares unseal the store (k, at most n)'),
});
export const ShamirInit = ShamirInitShape.refine((init) => init.secret_threshold <= init.secret_shares, {
  path: ['secret_threshold'],
  message: 'must not be more than secret_shares',
});
export type ShamirInit = z.infer<typeof ShamirInit>;

/**
 * A PKCS#11 auto-unseal init takes nothing: the token (module, label, PIN file) and the key label
 * come from the server's SEALBOX_SEAL_PKCS11_* settings, never from a request.
 */
export const Pkcs11Init = z.object({});
export type Pkcs11Init = z.infer<typeof Pkcs11Init>;

/** Why the last automatic unseal (PKCS#11 token) failed; absent once it succeeds. */
export const AutoUnsealError = z.object({
  code: z.string().describe('The error code, as a failed POST /v1/sys/unseal would answer (SEAL_TOKEN_KEY_NOT_FOUND, SEAL_TOKEN_UNAVAILABLE, UNSEAL_FAILED...)'),
  message: z.string(),
});
export type AutoUnsealError = z.infer<typeof AutoUnsealError>;

export const SealStatus = z.object({
  type: z.enum(SealTypes).optional().describe('The kind of unseal secret (absent until initialised)'),
  initialized: z.boolean(),
  sealed: z.boolean(),
  t: z.number().int().describe('Inputs one unseal takes: the share threshold k, 1 for a passphrase'),
  n: z.number().int().describe('Shares made (n), 1 for a passphrase'),
  progress: z.number().int().describe('Inputs given so far to the unseal in progress'),
  auto_unseal_error: AutoUnsealError.optional().describe('pkcs11 (auto-unseal) only: why the last attempt to unseal from the token failed'),
});
export type SealStatus = z.infer<typeof SealStatus>;

/** `POST /v1/sys/init` and `POST /v1/sys/rekey`: a passphrase, n shares of which k unseal, or the configured PKCS#11 token (auto-unseal). */
export const SealSecretRequest = z.discriminatedUnion('type', [
  PassphraseInit.extend({ type: z.literal('passphrase') }),
  ShamirInitShape.extend({ type: z.literal('shamir') }),
  Pkcs11Init.extend({ type: z.literal('pkcs11') }),
]);
export type SealSecretRequest = z.infer<typeof SealSecretRequest>;

export const SealSecretResponse = z.object({
  type: z.enum(SealTypes),
  keys: z
    .array(z.string())
    .describe('The unseal key shares (base64), shown this once and never stored: give one to each operator. Empty for a passphrase'),
});
export type SealSecretResponse = z.infer<typeof SealSecretResponse>;

/**
 * `POST /v1/sys/unseal`: one share, the passphrase or the key; `reset` to forget the inputs given so
 * far; or an empty object to unseal an auto-unseal (pkcs11) store from its token again.
 */
export const UnsealRequest = z.union([
  z.object({ key: z.string().min(1).max(1024).describe('One unseal key share, the passphrase, or the key') }),
  z.object({ reset: z.literal(true).describe('Forget the inputs given so far') }),
  z.object({}).strict().describe('pkcs11 (auto-unseal): ask the token again'),
]);
export type UnsealRequest = z.infer<typeof UnsealRequest>;

export const RotateResponse = z.object({ rewrapped: z.number().int().describe('Keys re-wrapped under the new master key') });
export type RotateResponse = z.infer<typeof RotateResponse>;
