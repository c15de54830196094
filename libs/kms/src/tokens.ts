import type { KmsProvider, ProviderKind } from '@sealbox/kms-plugins';

/** The HSM (an `Hsm` of @sealbox/hsm) holding provider master keys and the kms service key. */
export const KMS_HSM = Symbol('sealbox:kms:hsm');
/** The provider plugins by kind (`KmsProviders`). */
export const KMS_PROVIDERS = Symbol('sealbox:kms:providers');
/** `KmsDomainOptions`. */
export const KMS_OPTIONS = Symbol('sealbox:kms:options');

/** What kms needs of the provider registry: one provider per kind. */
export interface KmsProviders {
  get(kind: ProviderKind): KmsProvider;
}

export type KmsServiceName = 'kms' | 'hs-crypto';

export interface KmsDomainOptions {
  /** Which provider backs new instances of each service (default kms → key-protect, hs-crypto → hpcs). */
  readonly providerFor: Readonly<Record<KmsServiceName, ProviderKind>>;
  /** RSA modulus of import tokens (Key Protect: 4096). */
  readonly importTokenRsaBits: number;
  /** HSM token key sealing the kms service's own secrets (import token private keys, the fingerprint key). */
  readonly serviceKeyLabel: string;
  /** First fields of key CRNs (`<prefix>:<service>:<region>:a/<account>:<instance>:key:<id>`), as the gateway's audit CRNs. */
  readonly crnPrefix: string;
  /** How often the rotation and purge schedulers run (ms); 0: never by timer (tests call `runDue`). */
  readonly schedulerIntervalMs: number;
  /** Most keys whose wrap state (instance, key, versions) a replica keeps (`WrapTargets`). */
  readonly wrapStateEntries: number;
}

export const DEFAULT_KMS_DOMAIN_OPTIONS: KmsDomainOptions = {
  providerFor: { kms: 'key-protect', 'hs-crypto': 'hpcs' },
  importTokenRsaBits: 4096,
  serviceKeyLabel: 'sealbox-kms-service',
  crnPrefix: 'crn:v1:sealbox:public',
  schedulerIntervalMs: 60_000,
  wrapStateEntries: 10_000,
};
