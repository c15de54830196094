/** DI tokens of the crypto module. */
export const DEK_CACHE_OPTIONS = Symbol('sealbox:crypto:dek-cache-options');
/** The kms client port (`KmsKeyClient`); the platform RpcClient in the module. */
export const KMS_CLIENT = Symbol('sealbox:crypto:kms-client');
/** What the envelope service needs of kms, in bytes (`KmsKeys`): `RpcKmsKeys` over the KMS_CLIENT in the module. */
export const KMS_KEYS = Symbol('sealbox:crypto:kms-keys');
