/**
 * An in-memory VersionDirectory for the lock tests, standing in for the secrets store: secrets with
 * versions (newest is `current`, the one before `previous`), scoped by account and instance.
 */
import type { SecretsWire } from '@sealbox/contracts';
import { notFound } from '@sealbox/platform';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { VersionDirectory, type ResolvedVersion, type TenantScope } from '../../ports.js';

interface MemoryVersion {
  readonly id: string;
  readonly createdAt: number;
  payloadAvailable: boolean;
}

interface MemorySecret {
  readonly scope: TenantScope;
  readonly id: string;
  readonly groupId: string;
  readonly type: SecretsWire.SecretType;
  readonly name: string;
  /** Oldest first. */
  readonly versions: MemoryVersion[];
}

export class MemoryVersions extends VersionDirectory {
  private readonly secrets = new Map<string, MemorySecret>();
  private clock = 0;
  /** `secretId/versionId` of every deleteData call, in order. */
  readonly dataDeleted: string[] = [];
  /** `secretId/versionId` of every removeDeletedData call, in order. */
  readonly objectsRemoved: string[] = [];
  /** When set, removeDeletedData fails (the object store is down). */
  failRemovals = false;

  private key(scope: TenantScope, secretId: string): string {
    return `${scope.accountId}/${scope.instanceGuid}/${secretId}`;
  }

  /** A secret with one version; returns its id. */
  addSecret(scope: TenantScope, options: { groupId?: string; type?: SecretsWire.SecretType; name?: string } = {}): string {
    const id = randomUUID();
    this.secrets.set(this.key(scope, id), {
      scope,
      id,
      groupId: options.groupId ?? 'default',
      type: options.type ?? 'arbitrary',
      name: options.name ?? `secret-${id.slice(0, 8)}`,
      versions: [{ id: randomUUID(), createdAt: ++this.clock, payloadAvailable: true }],
    });
    return id;
  }

  /** A new current version; returns its id. */
  rotate(scope: TenantScope, secretId: string): string {
    const secret = this.secret(scope, secretId);
    const version = { id: randomUUID(), createdAt: ++this.clock, payloadAvailable: true };
    secret.versions.push(version);
    return version.id;
  }

  /** Version ids, newest first. */
  versionIds(scope: TenantScope, secretId: string): string[] {
    return this.secret(scope, secretId).versions.map((version) => version.id).reverse();
  }

  forget(scope: TenantScope, secretId: string): void {
    this.secrets.delete(this.key(scope, secretId));
  }

  private secret(scope: TenantScope, secretId: string): MemorySecret {
    const secret = this.secrets.get(this.key(scope, secretId));
    if (!secret) throw notFound(`Secret ${secretId}`);
    return secret;
  }

  private resolved(secret: MemorySecret): ResolvedVersion[] {
    return [...secret.versions].reverse().map((version, index) => ({
      secretId: secret.id,
      secretGroupId: secret.groupId,
      secretType: secret.type,
      secretName: secret.name,
      versionId: version.id,
      ...(index === 0 ? { alias: 'current' as const } : index === 1 ? { alias: 'previous' as const } : {}),
      payloadAvailable: version.payloadAvailable,
      createdAt: version.createdAt,
    }));
  }

  async resolve(_manager: EntityManager, scope: TenantScope, secretId: string, ref: string): Promise<ResolvedVersion> {
    const versions = this.resolved(this.secret(scope, secretId));
    const found = versions.find((version) => version.versionId === ref || version.alias === ref);
    if (!found) throw notFound(`Version ${ref} of secret ${secretId}`);
    return found;
  }

  async versions(_manager: EntityManager, scope: TenantScope, secretId: string): Promise<ResolvedVersion[]> {
    return this.resolved(this.secret(scope, secretId));
  }

  async deleteData(_manager: EntityManager, scope: TenantScope, secretId: string, versionId: string): Promise<void> {
    const version = this.secret(scope, secretId).versions.find((candidate) => candidate.id === versionId);
    if (!version) throw notFound(`Version ${versionId} of secret ${secretId}`);
    version.payloadAvailable = false;
    this.dataDeleted.push(`${secretId}/${versionId}`);
  }

  async removeDeletedData(_scope: TenantScope, secretId: string, versionId: string): Promise<void> {
    if (this.failRemovals) throw new Error('object store unavailable');
    this.objectsRemoved.push(`${secretId}/${versionId}`);
  }
}
