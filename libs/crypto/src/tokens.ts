/** DI tokens of the crypto module. */
export const DEK_CACHE_OPTIONS = Symbol('sealbox:crypto:dek-cache-options');
/** The kms client port (`KmsKeyClient`); the platform RpcClient in the module. */
export const KMS_CLIENT = Symbol('sealbox:crypto:kms-client');
