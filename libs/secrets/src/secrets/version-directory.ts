import { Injectable } from '@nestjs/common';
import type { SecretsWire } from '@sealbox/contracts';
import { notFound } from '@sealbox/platform';
import type { EntityManager } from 'typeorm';
import { VersionDirectory, type ResolvedVersion } from '../ports.js';
import { SecretsInGroup } from '../registry/ports.js';
import type { TenantScope } from '../registry/store.js';
import type { SecretEntity, SecretVersionEntity } from './entities.js';
import { aliasOf } from './aliases.js';
import { SecretStore } from './store.js';
import { resolveVersion, VersionService } from './version.service.js';
import { VersionVault } from './vault.js';

function resolved(secret: SecretEntity, version: SecretVersionEntity): ResolvedVersion {
  const alias = aliasOf(secret, version);
  return {
    secretId: secret.id,
    secretGroupId: secret.groupId,
    secretType: secret.secretType as SecretsWire.SecretType,
    secretName: secret.name,
    versionId: version.id,
    ...(alias ? { alias } : {}),
    payloadAvailable: version.payloadAvailable,
    createdAt: version.createdAt,
  };
}

/** Versions as the locks see them, on the secrets store, inside the caller's transaction. */
@Injectable()
export class SecretVersionDirectory extends VersionDirectory {
  constructor(
    private readonly versionService: VersionService,
    private readonly vault: VersionVault,
  ) {
    super();
  }

  private async secretOf(manager: EntityManager, scope: TenantScope, secretId: string): Promise<SecretEntity> {
    const secret = await new SecretStore(manager).secret(scope, secretId);
    if (!secret) throw notFound(`Secret ${secretId}`);
    return secret;
  }

  async resolve(manager: EntityManager, scope: TenantScope, secretId: string, ref: string): Promise<ResolvedVersion> {
    const secret = await this.secretOf(manager, scope, secretId);
    return resolved(secret, await resolveVersion(new SecretStore(manager), scope, secret, ref));
  }

  async versions(manager: EntityManager, scope: TenantScope, secretId: string): Promise<ResolvedVersion[]> {
    const secret = await this.secretOf(manager, scope, secretId);
    return (await new SecretStore(manager).versions(scope, secretId)).map((version) => resolved(secret, version));
  }

  async deleteData(manager: EntityManager, scope: TenantScope, secretId: string, versionId: string): Promise<void> {
    const secret = await this.secretOf(manager, scope, secretId);
    await this.versionService.markDataDeleted(manager, scope, secret, await resolveVersion(new SecretStore(manager), scope, secret, versionId));
  }

  async removeDeletedData(scope: TenantScope, secretId: string, versionId: string): Promise<void> {
    await this.vault.remove(scope.instanceGuid, secretId, versionId);
  }
}

/** How many secrets a group holds (a group with secrets cannot be deleted). */
@Injectable()
export class SecretsInGroupCount extends SecretsInGroup {
  count(manager: EntityManager, scope: TenantScope, groupId: string): Promise<number> {
    return new SecretStore(manager).countInGroup(scope, groupId);
  }
}
