/** Fields private certificates and their certificate authorities share (IBM's names). */
import { z } from 'zod';
import { ttlSeconds } from '../../common.js';

/** Certificate lifetimes: `max_ttl` of a CA or template, `ttl` of a certificate (at most 100 years). */
export const PRIVATE_CERT_MAX_TTL_SECONDS = 100 * 365 * 86_400;
/** Names of configurations: 2–128 characters, letters, digits and `-` (IBM). */
export const CONFIGURATION_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,126}[A-Za-z0-9]$/;
/** Domain names, SANs and the like in a template or a certificate. */
export const MAX_NAMES = 100;

export const ConfigurationName = z.string().regex(CONFIGURATION_NAME_PATTERN, 'must be 2 to 128 letters, digits or "-", starting and ending with a letter or digit');

/** A lifetime: seconds or a duration with unit s|m|h|d (`"8760h"`, `"30d"`), from 1 minute to 100 years. */
export const CertificateTtl = z.string().superRefine((ttl, ctx) => {
  const seconds = ttlSeconds(ttl);
  if (seconds === undefined) ctx.addIssue({ code: 'custom', message: 'must be a number of seconds or a duration such as "90m", "24h" or "30d"' });
  else if (seconds < 60 || seconds > PRIVATE_CERT_MAX_TTL_SECONDS) ctx.addIssue({ code: 'custom', message: 'must be between 1 minute and 100 years' });
});

/** Key types and sizes IBM offers: RSA 2048/4096, EC P-256/P-384. */
export const KeyTypes = ['rsa', 'ec'] as const;
export const KeyType = z.enum(KeyTypes);
export type KeyType = z.infer<typeof KeyType>;
export const KeyBits = z.union([z.literal(2048), z.literal(4096), z.literal(256), z.literal(384)]);
export type KeyBits = z.infer<typeof KeyBits>;

/** `key_type` and `key_bits` must go together: RSA 2048|4096, EC 256|384. */
export function checkKey(value: { key_type?: KeyType | undefined; key_bits?: number | undefined }, ctx: z.RefinementCtx): void {
  if (value.key_type === undefined || value.key_bits === undefined) return;
  const allowed = value.key_type === 'rsa' ? [2048, 4096] : [256, 384];
  if (!allowed.includes(value.key_bits)) ctx.addIssue({ code: 'custom', path: ['key_bits'], message: `must be ${allowed.join(' or ')} for key_type ${value.key_type}` });
}

/** IBM's comma-separated SAN lists (`ip_sans`, `uri_sans`) or arrays (`alt_names`). */
export const CommaList = z.string().max(4096);
export const NameList = z.array(z.string().min(1).max(253)).max(MAX_NAMES);

/** Subject fields of a CA (each a list, as IBM). */
export const subjectFields = {
  ou: z.array(z.string().min(1).max(64)).max(10).optional(),
  organization: z.array(z.string().min(1).max(64)).max(10).optional(),
  country: z.array(z.string().length(2)).max(10).optional(),
  locality: z.array(z.string().min(1).max(128)).max(10).optional(),
  province: z.array(z.string().min(1).max(128)).max(10).optional(),
};

/** Certificates are PEM (IBM also has `pem_bundle`, not supported: refused rather than ignored). */
export const CertificateFormat = z.enum(['pem']);
/** Private keys are PKCS#8 PEM (IBM also has `der`, not supported: refused rather than ignored). */
export const PrivateKeyFormat = z.enum(['pkcs8']);
