import type { LifecycleWire } from '@sealbox/contracts';
import { CRN_PREFIX } from './domain/crn.js';
import type { ReclamationEntity, ResourceInstanceEntity } from './persistence/entities.js';

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

/** The id Resource Controller gives the retention policy of reclamations. */
export const RETENTION_POLICY_ID = 'sealbox-reclamation-retention';

export function lastOperationOf(row: ResourceInstanceEntity): LifecycleWire.LastOperation {
  return {
    type: row.opType,
    ...(row.opSubType ? { sub_type: row.opSubType } : {}),
    state: row.opState,
    async: row.saga !== null,
    ...(row.opDescription ? { description: row.opDescription } : {}),
    cancelable: false,
    poll: row.opState === 'in progress',
  };
}

export function toWireInstance(row: ResourceInstanceEntity): LifecycleWire.ResourceInstance {
  const url = `/v2/resource_instances/${row.guid}`;
  return {
    id: row.crn,
    guid: row.guid,
    crn: row.crn,
    url,
    name: row.name,
    region_id: row.region,
    account_id: row.accountId,
    resource_plan_id: row.planId,
    resource_group_id: row.resourceGroupId,
    resource_group_crn: `${CRN_PREFIX}:resource-controller::a/${row.accountId}::resource-group:${row.resourceGroupId}`,
    resource_id: row.service,
    target_crn: `${CRN_PREFIX}:globalcatalog::::deployment:${row.planId}:${row.region}`,
    type: 'service_instance',
    sub_type: null,
    state: row.state as LifecycleWire.InstanceState,
    locked: row.locked,
    allow_cleanup: row.allowCleanup,
    parameters: JSON.parse(row.parameters) as Record<string, unknown>,
    tags: JSON.parse(row.tags) as string[],
    extensions: {},
    created_at: iso(row.createdAt),
    created_by: row.createdBy,
    updated_at: iso(row.updatedAt),
    updated_by: row.updatedBy,
    deleted_at: isoOrNull(row.deletedAt),
    ...(row.deletedBy ? { deleted_by: row.deletedBy } : {}),
    scheduled_reclaim_at: isoOrNull(row.scheduledReclaimAt),
    ...(row.scheduledReclaimAt !== null && row.deletedBy ? { scheduled_reclaim_by: row.deletedBy } : {}),
    restored_at: isoOrNull(row.restoredAt),
    ...(row.restoredBy ? { restored_by: row.restoredBy } : {}),
    plan_history: JSON.parse(row.planHistory) as LifecycleWire.ResourceInstance['plan_history'],
    last_operation: lastOperationOf(row),
    dashboard_url: null,
    resource_aliases_url: `${url}/resource_aliases`,
    resource_bindings_url: `${url}/resource_bindings`,
    resource_keys_url: `${url}/resource_keys`,
  };
}

export function toWireReclamation(row: ReclamationEntity): LifecycleWire.Reclamation {
  return {
    id: row.id,
    entity_id: row.instanceGuid,
    entity_type_id: 'service-instance',
    entity_crn: row.instanceCrn,
    resource_instance_id: row.instanceGuid,
    resource_group_id: row.resourceGroupId,
    account_id: row.accountId,
    policy_id: RETENTION_POLICY_ID,
    state: row.state as LifecycleWire.ReclamationState,
    target_time: iso(row.targetTime),
    custom_properties: { reason: row.reason, purge_protection: row.purgeProtection },
    created_at: iso(row.createdAt),
    created_by: row.createdBy,
    updated_at: iso(row.updatedAt),
    updated_by: row.updatedBy,
  };
}
