import { Inject, Injectable } from '@nestjs/common';
import type { SecretsWire } from '@sealbox/contracts';
import { dataSourceToken, outboxToken, type Outbox } from '@sealbox/platform';
import type { DataSource } from 'typeorm';
import { IamCredentialsIssuer, LockDirectory } from '../ports.js';
import { RegistryStore, type TenantScope } from '../registry/store.js';
import { SecretEntity, SecretVersionEntity } from './entities.js';
import { CachedEnvelopeStore } from './envelopes.js';
import type { IamVersionDetails } from './types/index.js';
import { SecretStore } from './store.js';
import { ConfigurationStore } from './types/private-cert/store.js';

/**
 * `secrets.instance.purge` (lifecycle's permanent delete): first the API keys iam issued for the
 * instance's `iam_credentials` versions are revoked (a credential must not outlive its instance; a
 * failed revoke fails the purge, which lifecycle retries with the key ids still on record), then
 * every lock, version, secret, label and group row of the instance and the instance itself go, in
 * one transaction with `secrets.instance.purged`. A purged (or unknown) instance answers zero
 * counts. The objects go with the bucket, which lifecycle removes (`storage.bucket.remove`); the
 * envelopes this replica cached for the instance are dropped once the rows are gone.
 */
@Injectable()
export class InstancePurge {
  constructor(
    @Inject(dataSourceToken('secrets')) private readonly dataSource: DataSource,
    @Inject(outboxToken('secrets')) private readonly outbox: Outbox,
    private readonly locks: LockDirectory,
    private readonly issuer: IamCredentialsIssuer,
    private readonly envelopes: CachedEnvelopeStore,
  ) {}

  async purge(request: SecretsWire.InstanceRef): Promise<SecretsWire.PurgeInstanceResponse> {
    const known = await new RegistryStore(this.dataSource.manager).instanceByGuid(request.instanceGuid);
    if (known) {
      const scope = { accountId: known.accountId, instanceGuid: known.instanceGuid };
      for (const apiKeyId of await this.issuedApiKeyIds(scope)) await this.issuer.revoke(scope.accountId, apiKeyId);
    }
    const counts = await this.dataSource.transaction(async (manager) => {
      const instance = await new RegistryStore(manager).instanceByGuid(request.instanceGuid);
      if (!instance) return { secrets: 0, versions: 0 };
      const scope = { accountId: instance.accountId, instanceGuid: instance.instanceGuid };
      await this.locks.removeInstance(manager, scope);
      const counts = await new SecretStore(manager).purgeInstance(scope);
      await new ConfigurationStore(manager).purge(scope);
      await this.outbox.record(manager, 'secrets.instance.purged', { accountId: instance.accountId, instanceId: instance.instanceGuid });
      return counts;
    });
    this.envelopes.forgetInstance(request.instanceGuid);
    return counts;
  }

  /** The distinct API key ids of the instance's iam_credentials versions (reused keys appear once). */
  private async issuedApiKeyIds(scope: TenantScope): Promise<string[]> {
    const versions = await this.dataSource.manager
      .createQueryBuilder(SecretVersionEntity, 'v')
      .innerJoin(SecretEntity, 's', 's.instanceGuid = v.instanceGuid AND s.id = v.secretId')
      .where('v.instanceGuid = :instanceGuid AND v.accountId = :accountId', scope)
      .andWhere('s.secretType = :type', { type: 'iam_credentials' })
      .getMany();
    const ids = versions.map((version) => (version.details as Partial<IamVersionDetails>).api_key_id);
    return [...new Set(ids.filter((id): id is string => typeof id === 'string' && id !== ''))];
  }
}
