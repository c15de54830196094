import { z } from 'zod';
import {
  DEFAULT_PKCS11_LIBRARY,
  DEFAULT_PKCS11_SESSIONS,
  DEFAULT_UNWRAPPED_KEY_MAX_AGE_MS,
  DEFAULT_UNWRAPPED_KEYS_PER_SESSION,
} from './pkcs11/pkcs11-hsm.js';

/** A PKCS#11 token (SoftHSM2 or a real HSM), found by its label; keys never leave it. */
export const Pkcs11HsmConfigSchema = z.object({
  backend: z.literal('pkcs11'),
  library: z.string().min(1).default(DEFAULT_PKCS11_LIBRARY).describe('Path of the PKCS#11 module'),
  tokenLabel: z.string().min(1).max(32).describe('Label of the token that holds the keys (at most 32 characters in PKCS#11)'),
  pin: z.string().min(4).describe('User PIN of the token (no default)'),
  maxSessions: z.number().int().min(1).max(64).default(DEFAULT_PKCS11_SESSIONS).describe('Sessions kept open for concurrent calls'),
  unwrappedKeysPerSession: z
    .number()
    .int()
    .min(0)
    .max(1024)
    .default(DEFAULT_UNWRAPPED_KEYS_PER_SESSION)
    .describe('Wrapped keys (root key versions) each session keeps unwrapped as session objects for later calls; 0: unwrap on every call'),
  unwrappedKeyMaxAgeMs: z
    .number()
    .int()
    .min(1)
    .max(3_600_000)
    .default(DEFAULT_UNWRAPPED_KEY_MAX_AGE_MS)
    .describe('Longest a session keeps an unwrapped key, in ms'),
});

/** The local emulator: keys sealed under `<directory>/master.key` in `<directory>/keys.json`. */
export const SoftHsmConfigSchema = z.object({
  backend: z.literal('soft'),
  directory: z.string().min(1).describe('Private directory (mode 0700) of the soft HSM'),
});

/** Which HSM holds the keys, one branch per backend. */
export const HsmConfigSchema = z.discriminatedUnion('backend', [Pkcs11HsmConfigSchema, SoftHsmConfigSchema]);

/** What callers write (defaults may be left out). */
export type HsmConfig = z.input<typeof HsmConfigSchema>;
/** After validation, defaults applied. */
export type ParsedHsmConfig = z.output<typeof HsmConfigSchema>;
export type Pkcs11HsmConfig = z.output<typeof Pkcs11HsmConfigSchema>;
export type SoftHsmConfig = z.output<typeof SoftHsmConfigSchema>;
