import { z } from 'zod';
import { MAX_LABEL_PREFIX } from './binding.js';
import { MAX_THRESHOLD, MIN_THRESHOLD } from './hpcs.js';

const labelText = z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only');
/** A whole HSM label (a provider's own key). */
const label = labelText.min(1).max(128);
/** The start of per-instance labels, short enough for the instance and a UUID to follow. */
const labelPrefix = labelText.min(1).max(MAX_LABEL_PREFIX);

export const KeyProtectProviderConfig = z.strictObject({
  kind: z.literal('key-protect'),
  /** Token key holding the provider master key that wraps every root key version. */
  masterKeyLabel: label.default('kp-master'),
});

export const HpcsProviderConfig = z.strictObject({
  kind: z.literal('hpcs'),
  /** Master key parts needed when an instance is created without a threshold. */
  defaultThreshold: z.number().int().min(MIN_THRESHOLD).max(MAX_THRESHOLD).default(2),
  /** Token key sealing pending master key parts until the ceremony completes. */
  ceremonyKeyLabel: label.default('hpcs-ceremony'),
  /** Instance master keys are token keys `<labelPrefix>-<instance>-mk`. */
  labelPrefix: labelPrefix.default('hpcs'),
});

export const LocalHsmProviderConfig = z.strictObject({
  kind: z.literal('local-hsm'),
  /** Root key versions are token keys `<labelPrefix>-<instance>-<uuid>`. */
  labelPrefix: labelPrefix.default('lh'),
});

/** Settings of one provider plugin: ONE discriminated union on `kind`. */
export const KmsProviderConfig = z.discriminatedUnion('kind', [
  KeyProtectProviderConfig,
  HpcsProviderConfig,
  LocalHsmProviderConfig,
]);
export type KmsProviderConfig = z.output<typeof KmsProviderConfig>;
export type KmsProviderConfigInput = z.input<typeof KmsProviderConfig>;
export type KmsProviderConfigOf<K extends KmsProviderConfig['kind']> = Extract<KmsProviderConfig, { kind: K }>;
