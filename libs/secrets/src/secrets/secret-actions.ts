import { Inject, Injectable } from '@nestjs/common';
import type { SecretsWire } from '@sealbox/contracts';
import { Clock, dataSourceToken, outboxToken, type Outbox } from '@sealbox/platform';
import type { DataSource } from 'typeorm';
import type { GroupCaller } from '../registry/rules.js';
import { SecretAccess } from './access.js';
import { VersionMaterial } from './material.js';
import { secretEventRef } from './secret.service.js';
import { SecretStore } from './store.js';

/**
 * createSecretAction: the secret's type does the action (private_cert: revoke the current
 * certificate); the details it changes on the secret and its current version are saved with
 * `secrets.secret.updated`. A type that takes no action answers VALIDATION_FAILED on `action_type`.
 */
@Injectable()
export class SecretActionService {
  constructor(
    @Inject(dataSourceToken('secrets')) private readonly dataSource: DataSource,
    @Inject(outboxToken('secrets')) private readonly outbox: Outbox,
    private readonly clock: Clock,
    private readonly access: SecretAccess,
    private readonly material: VersionMaterial,
  ) {}

  async create(caller: GroupCaller, request: SecretsWire.SecretActionRequest): Promise<SecretsWire.SecretAction> {
    const scope = this.access.scopeOf(caller, request.instanceGuid);
    const { instance, secret } = await this.access.instanceAndSecret(scope, request.id);
    const current = (await new SecretStore(this.dataSource.manager).versionByOrdinal(scope, secret.id, secret.currentOrdinal)) ?? undefined;
    const now = this.clock.nowMs();
    const done = await this.material.action(instance, secret, current, request.action, now);
    await this.dataSource.transaction(async (manager) => {
      const store = new SecretStore(manager);
      if (done.secretDetails) await store.updateSecret(scope, secret.id, { details: done.secretDetails, updatedAt: now });
      if (done.versionDetails && current) await store.updateVersion(scope, secret.id, current.id, { details: done.versionDetails });
      await this.outbox.record(manager, 'secrets.secret.updated', secretEventRef(secret));
    });
    return done.response;
  }
}
