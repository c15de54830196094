/**
 * THE registry of the secret types Sealbox stores. Every list of types, every union keyed by
 * `secret_type` and every per-type table is derived from `secretTypeModules`: adding a type is its
 * module (a `defineSecretType` call in its own file) plus one line here, and the secrets service's
 * handler table (libs/secrets/src/secrets/types) then fails to compile until the type has a handler.
 */
import { z } from 'zod';
import { arbitrary } from './arbitrary.js';
import { iamCredentials } from './iam-credentials.js';
import { importedCert } from './imported-cert.js';
import { kv } from './kv.js';
import { privateCert } from './private-cert/index.js';
import { usernamePassword } from './username-password.js';

export * from './arbitrary.js';
export * from './iam-credentials.js';
export * from './imported-cert.js';
export * from './kv.js';
export * from './private-cert/index.js';
export * from './username-password.js';
export { defineSecretType } from './define.js';

export const secretTypeModules = [arbitrary, usernamePassword, kv, importedCert, iamCredentials, privateCert] as const;

type Modules = typeof secretTypeModules;
type Module = Modules[number];
/** One field of every module, as a tuple in registry order (what z.discriminatedUnion takes). Generic in M so that it maps a tuple to a tuple. */
type FieldOf<M extends readonly unknown[], K extends PropertyKey> = { -readonly [I in keyof M]: M[I] extends { readonly [P in K]: infer V } ? V : never };
type Each<K extends keyof Module> = FieldOf<Modules, K>;
function each<K extends keyof Module>(field: K): Each<K> {
  return secretTypeModules.map((module) => module[field]) as unknown as Each<K>;
}

/** The types Sealbox stores. A prototype of another type fails validation on `secret_type`. */
export const SecretTypes = each('type');
export const SecretType = z.enum(SecretTypes);
export type SecretType = z.infer<typeof SecretType>;

export function isSecretType(value: unknown): value is SecretType {
  return typeof value === 'string' && (SecretTypes as readonly string[]).includes(value);
}

/** The module of a type, by `secret_type`. */
export type SecretTypeModule<T extends SecretType = SecretType> = Extract<Module, { type: T }>;
type ByType<K extends keyof Module> = { readonly [T in SecretType]: SecretTypeModule<T>[K] };
function byType<K extends keyof Module>(field: K): ByType<K> {
  return Object.fromEntries(secretTypeModules.map((module) => [module.type, module[field]])) as unknown as ByType<K>;
}

export const SecretPrototype = z.discriminatedUnion('secret_type', each('prototype'));
/** A prototype as the service sees it (defaults applied). */
export type SecretPrototype = z.infer<typeof SecretPrototype>;
/** A prototype as a client writes it (defaulted fields optional). */
export type SecretPrototypeInput = z.input<typeof SecretPrototype>;
/** The prototype of one type. */
export type SecretPrototypeOf<T extends SecretType> = Extract<SecretPrototype, { secret_type: T }>;

/** The metadata patch for each type: the body carries no `secret_type`, the service picks by the stored secret. */
export const SecretMetadataPatches = byType('metadataPatch');
export type SecretMetadataPatch = z.infer<(typeof SecretMetadataPatches)[SecretType]>;

/** The version prototype for each type: the body carries no `secret_type`, the service picks by the stored secret. */
export const SecretVersionPrototypes = byType('versionPrototype');
export type SecretVersionPrototype = z.infer<(typeof SecretVersionPrototypes)[SecretType]>;

export const SecretMetadata = z.discriminatedUnion('secret_type', each('metadata'));
export type SecretMetadata = z.infer<typeof SecretMetadata>;

/** A secret with the payload of its current version. */
export const Secret = z.discriminatedUnion('secret_type', each('secret'));
export type Secret = z.infer<typeof Secret>;

export const SecretVersionMetadata = z.discriminatedUnion('secret_type', each('versionMetadata'));
export type SecretVersionMetadata = z.infer<typeof SecretVersionMetadata>;

/** A version with its payload; the payload fields are absent when `payload_available` is false. */
export const SecretVersion = z.discriminatedUnion('secret_type', each('version'));
export type SecretVersion = z.infer<typeof SecretVersion>;

/** Not paginated. */
export const SecretVersionMetadataCollection = z.object({
  versions: z.array(SecretVersionMetadata),
  total_count: z.number().int().min(0),
});
export type SecretVersionMetadataCollection = z.infer<typeof SecretVersionMetadataCollection>;
