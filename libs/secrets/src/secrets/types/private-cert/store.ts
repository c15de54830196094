/** The configurations of one instance, always scoped by account and instance. */
import { IsNull, LessThan, Not, type EntityManager, type QueryDeepPartialEntity } from 'typeorm';
import type { TenantScope } from '../../../registry/store.js';
import { PrivateCertConfigurationEntity } from './entities.js';

export type ConfigurationChanges = Partial<Omit<PrivateCertConfigurationEntity, 'instanceGuid' | 'accountId' | 'name' | 'id' | 'configType' | 'createdAt' | 'createdBy'>>;

export class ConfigurationStore {
  constructor(private readonly manager: EntityManager) {}

  private scoped(scope: TenantScope): TenantScope {
    if (!scope.accountId || !scope.instanceGuid) throw new Error('A configuration query needs an account and an instance');
    return { accountId: scope.accountId, instanceGuid: scope.instanceGuid };
  }

  get(scope: TenantScope, name: string): Promise<PrivateCertConfigurationEntity | null> {
    return this.manager.findOneBy(PrivateCertConfigurationEntity, { ...this.scoped(scope), name });
  }

  all(scope: TenantScope): Promise<PrivateCertConfigurationEntity[]> {
    return this.manager.find(PrivateCertConfigurationEntity, { where: { ...this.scoped(scope) }, order: { createdAt: 'ASC', name: 'ASC' } });
  }

  async insert(row: PrivateCertConfigurationEntity): Promise<void> {
    this.scoped(row);
    await this.manager.insert(PrivateCertConfigurationEntity, row as QueryDeepPartialEntity<PrivateCertConfigurationEntity>);
  }

  /** Update one configuration; with `expectedCrlNumber`, only while its CRL is still that one. Returns whether a row changed. */
  async update(scope: TenantScope, name: string, changes: ConfigurationChanges, expectedCrlNumber?: number): Promise<boolean> {
    const where = { ...this.scoped(scope), name, ...(expectedCrlNumber === undefined ? {} : { crlNumber: expectedCrlNumber }) };
    const result = await this.manager.update(PrivateCertConfigurationEntity, where, changes as QueryDeepPartialEntity<PrivateCertConfigurationEntity>);
    return (result.affected ?? 0) > 0;
  }

  async remove(scope: TenantScope, name: string): Promise<void> {
    await this.manager.delete(PrivateCertConfigurationEntity, { ...this.scoped(scope), name });
  }

  /** Every configuration of an instance goes with it (permanent delete). */
  async purge(scope: TenantScope): Promise<number> {
    const result = await this.manager.delete(PrivateCertConfigurationEntity, { ...this.scoped(scope) });
    return result.affected ?? 0;
  }

  /** The CRL of a CA by instance (the public CRL route names no account): the row, or null. */
  crlOf(instanceGuid: string, name: string): Promise<Pick<PrivateCertConfigurationEntity, 'crl'> | null> {
    if (!instanceGuid || !name) throw new Error('A CRL query needs an instance and a name');
    return this.manager.findOne(PrivateCertConfigurationEntity, { select: { crl: true }, where: { instanceGuid, name, crl: Not(IsNull()) } });
  }

  /** CAs of every tenant whose CRL must be re-signed before `until` (the only query over every tenant). */
  dueCrlsOfAllTenants(until: number, limit: number): Promise<PrivateCertConfigurationEntity[]> {
    return this.manager.find(PrivateCertConfigurationEntity, { where: { crlNextUpdate: LessThan(until), status: 'configured' }, order: { crlNextUpdate: 'ASC' }, take: limit });
  }
}
