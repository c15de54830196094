import type { KeyProtector } from '@sealbox/platform';

export const IAM_OPTIONS = Symbol('sealbox:iam:options');

/** Settings of the IAM domain, mapped from the app's configuration. */
export interface IamOptions {
  /**
   * File holding the 32-byte platform master key that seals the token signing keys (created 0600 if
   * missing). With `sealedMasterKey`: a clear key file of an older version, migrated then deleted.
   */
  readonly masterKeyFile: string;
  /** Keep the master key only wrapped by the unsealed key store, in `file` (standalone). */
  readonly sealedMasterKey?: { readonly file: string; readonly protector: KeyProtector };
  /** Access token lifetime. */
  readonly accessTokenTtlSeconds: number;
  /** Refresh token lifetime. */
  readonly refreshTokenTtlSeconds: number;
  /** How long a rotated-out signing key still verifies (at least the access token lifetime). */
  readonly signingKeyOverlapSeconds: number;
  /** `iss` claim of access tokens. */
  readonly issuer: string;
  /**
   * How often expired API keys issued for secrets (`iam.apikey.issue-for-service`) are deleted.
   * Absent or 0: never by a timer (tests run `ExpiredApiKeySweeper.sweep()` themselves); the apps
   * always set it from `SEALBOX_IAM_APIKEY_SWEEP_INTERVAL_S`.
   */
  readonly apiKeySweepIntervalMs?: number;
  /**
   * The provider's own account (provider-managed encryption): its KMS instances serve every account's
   * `secrets-manager` instances without a per-customer authorization — the operator owns those keys.
   * Absent: no such account (every use of a key needs an authorization in the key's account).
   */
  readonly providerAccountId?: string;
  /**
   * API keys one identity may hold (those iam issues for `iam_credentials` secrets not counted); one
   * more is 409 QUOTA_EXCEEDED. Absent: DEFAULT_API_KEYS_PER_IDENTITY.
   */
  readonly apiKeysPerIdentity?: number;
}

/** The default of `apiKeysPerIdentity` (SEALBOX_IAM_API_KEYS_PER_IDENTITY). */
export const DEFAULT_API_KEYS_PER_IDENTITY = 50;
