/**
 * THE table of secret type handlers. Its keys are the contracts' registry of types
 * (`SecretsWire.SecretTypes`): a type declared there without a handler here fails to compile.
 */
import type { SecretsWire } from '@sealbox/contracts';
import { arbitrary } from './arbitrary.js';
import type { SecretTypeHandler } from './handler.js';
import { iamCredentials } from './iam-credentials.js';
import { importedCert } from './imported-cert.js';
import { kv } from './kv.js';
import { privateCert } from './private-cert/handler.js';
import { usernamePassword } from './username-password.js';

export * from './handler.js';
export type { UsernamePasswordDetails } from './username-password.js';
export type { IamCredentialsDetails, IamVersionDetails } from './iam-credentials.js';
export { certificatePayload, type CertificateDetails } from './imported-cert.js';

type HandlerTable = { readonly [T in SecretsWire.SecretType]: SecretTypeHandler<T> };

export const secretTypeHandlers: HandlerTable = {
  arbitrary,
  username_password: usernamePassword,
  kv,
  imported_cert: importedCert,
  iam_credentials: iamCredentials,
  private_cert: privateCert,
};

/** The handler of a stored secret's type (a type column the registry does not know is a bug: it throws). */
export function secretTypeHandler<T extends SecretsWire.SecretType>(type: T): SecretTypeHandler<T>;
export function secretTypeHandler(type: string): SecretTypeHandler;
export function secretTypeHandler(type: string): SecretTypeHandler {
  const handler = (secretTypeHandlers as Readonly<Record<string, SecretTypeHandler>>)[type];
  if (!handler) throw new Error(`No handler for secret type "${type}"`);
  return handler;
}
