/**
 * What the secrets service needs to know about one secret type: how a prototype becomes the first
 * version, how a new version (by a client or by the rotation scheduler) is made, which payload fields
 * a sealed version holds, and the type's own fields in the wire shapes. Each type implements this
 * once (types/<type>.ts, or a folder for a bigger type); the table in types/index.ts lists them, keyed
 * by the contracts' registry of types, so a type without a handler does not compile.
 *
 * The generic code (create, rotate, read, patch, delete, the wire shapes) never switches on the type:
 * it asks the handler. Handlers are stateless; what they need from other services comes in
 * `TypeServices`, and what they need to know about the secret comes with each call.
 */
import type { SecretsWire } from '@sealbox/contracts';
import type { IamCredentialsIssuer } from '../../ports.js';
import type { PrivateCertEngine } from './private-cert/engine.js';
import type { InstanceEntity } from '../../registry/entities.js';
import type { SecretEntity, SecretVersionEntity } from '../entities.js';
import type { VersionPayload } from '../payload.js';

type SecretType = SecretsWire.SecretType;

/** The collaborators a type may use to make versions (bound by VersionMaterial). */
export interface TypeServices {
  /** API keys of service IDs (iam_credentials). */
  readonly issuer: IamCredentialsIssuer;
  /** Certificates from the instance's CAs (private_cert). */
  readonly certificates: Pick<PrivateCertEngine, 'issue' | 'revoke'>;
}

/** What a new version brings: its payload and the metadata it sets on the secret and on itself. */
export interface VersionMade {
  readonly payload: VersionPayload;
  /** The secret's type details after this version (unchanged when the version does not touch them). */
  readonly secretDetails: Record<string, unknown>;
  /** The secret's expiration after this version (undefined: unchanged). */
  readonly secretExpirationAt?: number | null;
  readonly versionDetails: Record<string, unknown>;
  readonly versionExpirationAt: number | null;
  /** Undo what making the version did outside the database (an API key issued) when it is not committed. */
  readonly discard?: () => Promise<void>;
}

/** The first version also decides when the secret first rotates. */
export interface FirstVersionMade extends VersionMade {
  readonly nextRotationAt: number | null;
}

export interface FirstVersionInput<T extends SecretType> {
  readonly accountId: string;
  /** The active instance the secret is created in. */
  readonly instance: InstanceEntity;
  /** Already validated by the contract (defaults applied). */
  readonly prototype: SecretsWire.SecretPrototypeOf<T>;
  readonly now: number;
  readonly services: TypeServices;
}

export interface NextVersionInput {
  readonly instance: InstanceEntity;
  readonly secret: SecretEntity;
  /** The current version's metadata (null when it was pruned). */
  readonly current: SecretVersionEntity | null;
  /** Already validated by SecretVersionPrototypes[type]; `{}` from the rotation scheduler. */
  readonly prototype: Record<string, unknown>;
  readonly now: number;
  readonly services: TypeServices;
  /** The current version's payload (opened on demand: only a type that carries fields over asks). */
  readonly openCurrent: () => Promise<VersionPayload>;
}

/** The dates a metadata view may show (computed once by the generic code). */
export interface MetadataDates {
  /** `{expiration_date}` when the secret has one, else `{}`. */
  readonly expiration: { readonly expiration_date?: string };
  /** `{next_rotation_date}` when the secret rotates, else `{}`. */
  readonly nextRotation: { readonly next_rotation_date?: string };
}

/** createSecretAction on a secret of a type that takes actions. */
export interface SecretActionInput {
  readonly instance: InstanceEntity;
  readonly secret: SecretEntity;
  readonly current: SecretVersionEntity | undefined;
  readonly action: SecretsWire.SecretActionPrototype;
  readonly now: number;
  readonly services: TypeServices;
}

/** What an action did: its answer, and the details it changed on the secret and its current version. */
export interface SecretActionDone {
  readonly response: SecretsWire.SecretAction;
  readonly secretDetails?: Record<string, unknown>;
  readonly versionDetails?: Record<string, unknown>;
}

export interface SecretTypeHandler<T extends SecretType = SecretType> {
  readonly type: T;
  /** The first version of a new secret. */
  first(input: FirstVersionInput<T>): Promise<FirstVersionMade>;
  /** A new version of an existing secret (a client's createSecretVersion, or automatic rotation). */
  next(input: NextVersionInput): Promise<VersionMade>;
  /** Payload codec: the type's fields out of an opened version's JSON (anything else is dropped). */
  decode(value: Readonly<Record<string, unknown>>): VersionPayload;
  /** The type's own fields of the secret's metadata (response). */
  metadataView(secret: SecretEntity, dates: MetadataDates): Record<string, unknown>;
  /** The type's own fields of a version's metadata (response). */
  versionView(version: SecretVersionEntity): Record<string, unknown>;
  /** The payload fields a response carries (default: the payload as decoded). */
  payloadView?(payload: VersionPayload, version: SecretVersionEntity | undefined): Record<string, unknown>;
  /** The type's own details after a metadata patch already checked against SecretMetadataPatches[type] (rotation is handled for every type). */
  patchDetails?(details: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown>;
  /** createSecretAction (a type without it takes no action: 400). */
  action?(input: SecretActionInput): Promise<SecretActionDone>;
  /** After the secret and these versions were deleted: release what they hold elsewhere (best effort). */
  deleted?(secret: SecretEntity, versions: readonly SecretVersionEntity[], services: TypeServices): Promise<void>;
}
