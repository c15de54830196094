import type { RequestOf, ResponseOf } from '@sealbox/contracts';

/**
 * The two kms subjects crypto uses, as a narrow port: the platform RpcClient satisfies it (the module
 * binds it with `useExisting`), and tests pass a typed fake. Errors are kms's DomainErrors, unchanged.
 */
export interface KmsKeyClient {
  send(subject: 'kms.key.wrap', request: RequestOf<'kms.key.wrap'>): Promise<ResponseOf<'kms.key.wrap'>>;
  send(subject: 'kms.key.unwrap', request: RequestOf<'kms.key.unwrap'>): Promise<ResponseOf<'kms.key.unwrap'>>;
}
