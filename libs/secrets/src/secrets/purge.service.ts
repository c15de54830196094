import { Inject, Injectable } from '@nestjs/common';
import type { SecretsWire } from '@sealbox/contracts';
import { dataSourceToken, outboxToken, type Outbox } from '@sealbox/platform';
import type { DataSource } from 'typeorm';
import { LockDirectory } from '../ports.js';
import { RegistryStore } from '../registry/store.js';
import { SecretStore } from './store.js';

/**
 * `secrets.instance.purge` (lifecycle's permanent delete): every lock, version, secret, label and
 * group row of the instance and the instance itself, in one transaction with `secrets.instance.purged`.
 * A purged (or unknown) instance answers zero counts. The objects go with the bucket, which
 * lifecycle removes (`storage.bucket.remove`).
 */
@Injectable()
export class InstancePurge {
  constructor(
    @Inject(dataSourceToken('secrets')) private readonly dataSource: DataSource,
    @Inject(outboxToken('secrets')) private readonly outbox: Outbox,
    private readonly locks: LockDirectory,
  ) {}

  purge(request: SecretsWire.InstanceRef): Promise<SecretsWire.PurgeInstanceResponse> {
    return this.dataSource.transaction(async (manager) => {
      const instance = await new RegistryStore(manager).instanceByGuid(request.instanceGuid);
      if (!instance) return { secrets: 0, versions: 0 };
      const scope = { accountId: instance.accountId, instanceGuid: instance.instanceGuid };
      await this.locks.removeInstance(manager, scope);
      const counts = await new SecretStore(manager).purgeInstance(scope);
      await this.outbox.record(manager, 'secrets.instance.purged', { accountId: instance.accountId, instanceId: instance.instanceGuid });
      return counts;
    });
  }
}
