/**
 * What one secret type declares on the wire, and how its response shapes are built from the fields
 * every type shares (common.ts). A type module (arbitrary.ts, kv.ts, …) calls `defineSecretType` once;
 * the registry (index.ts) lists the modules and derives every union and per-type table from them.
 */
import { z } from 'zod';
import { metadataCommon, versionMetadataCommon } from '../common.js';

type Shape = Record<string, z.ZodType>;
type Optional<S extends Shape> = { [K in keyof S]: z.ZodOptional<S[K]> };
/** `{...A, ...B}` as a type: B's fields win. */
type Merge<A, B> = Omit<A, keyof B> & B;
type MetadataShape<T extends string, MF extends Shape> = Merge<{ secret_type: z.ZodLiteral<T> } & typeof metadataCommon, MF>;
type VersionShape<T extends string, VF extends Shape> = Merge<{ secret_type: z.ZodLiteral<T> } & typeof versionMetadataCommon, VF>;

/** The declaration a type module writes. */
export interface SecretTypeDeclaration<
  T extends string,
  P extends z.ZodType,
  M extends z.ZodType,
  V extends z.ZodType,
  MF extends Shape,
  PF extends Shape,
  VF extends Shape,
> {
  readonly type: T;
  /** createSecret body (strict; carries `secret_type: T`). */
  readonly prototype: P;
  /** updateSecretMetadata body (strict; no `secret_type`: the stored secret's type picks it). */
  readonly metadataPatch: M;
  /** createSecretVersion body (strict; no `secret_type`). */
  readonly versionPrototype: V;
  /** The type's own fields of a secret's metadata (response). */
  readonly metadataFields: MF;
  /** The payload fields a secret (and, optional, a version) carries. */
  readonly payloadFields: PF;
  /** The type's own fields of a version's metadata (response). */
  readonly versionFields: VF;
}

/** A declaration with its four response shapes built. */
export function defineSecretType<
  const T extends string,
  P extends z.ZodType,
  M extends z.ZodType,
  V extends z.ZodType,
  MF extends Shape,
  PF extends Shape,
  VF extends Shape,
>(declaration: SecretTypeDeclaration<T, P, M, V, MF, PF, VF>) {
  const secretType = z.literal(declaration.type);
  const metadataShape = { secret_type: secretType, ...metadataCommon, ...declaration.metadataFields } as MetadataShape<T, MF>;
  const versionShape = { secret_type: secretType, ...versionMetadataCommon, ...declaration.versionFields } as VersionShape<T, VF>;
  const optionalPayload = Object.fromEntries(Object.entries(declaration.payloadFields).map(([name, field]) => [name, field.optional()])) as Optional<PF>;
  return {
    ...declaration,
    /** A secret's metadata. */
    metadata: z.object(metadataShape),
    /** A secret with its current version's payload. */
    secret: z.object({ ...metadataShape, ...declaration.payloadFields } as Merge<MetadataShape<T, MF>, PF>),
    /** A version's metadata. */
    versionMetadata: z.object(versionShape),
    /** A version with its payload; the payload fields are absent when its data was deleted. */
    version: z.object({ ...versionShape, ...optionalPayload } as Merge<VersionShape<T, VF>, Optional<PF>>),
  };
}
