/**
 * Resource Controller wire shapes (`lifecycle.*`): resource instances (`/v2/resource_instances`),
 * reclamations (`/v1/reclamations`) and the plan catalog. HTTP bodies follow IBM's
 * ResourceControllerV2 field names; the NATS service requests wrap them.
 */
import { z } from 'zod';

export const LifecycleServiceNames = ['secrets-manager', 'kms', 'hs-crypto'] as const;
export const LifecycleServiceName = z.enum(LifecycleServiceNames);
export type LifecycleServiceName = z.infer<typeof LifecycleServiceName>;

export const InstanceStates = ['provisioning', 'active', 'inactive', 'failed', 'pending_reclamation', 'pending_removal', 'removed'] as const;
export const InstanceState = z.enum(InstanceStates);
export type InstanceState = z.infer<typeof InstanceState>;

export const ReclamationStates = ['SCHEDULED', 'RESTORING', 'RECLAIMING', 'RESTORED', 'RECLAIMED', 'FAILED'] as const;
export const ReclamationState = z.enum(ReclamationStates);
export type ReclamationState = z.infer<typeof ReclamationState>;

export const ReclamationActions = ['restore', 'reclaim'] as const;
export const ReclamationAction = z.enum(ReclamationActions);
export type ReclamationAction = z.infer<typeof ReclamationAction>;

/** Why an instance went to reclamation. */
export const DeletionReasons = ['user', 'plan_retired'] as const;
export const DeletionReason = z.enum(DeletionReasons);
export type DeletionReason = z.infer<typeof DeletionReason>;

const DateTime = z.iso.datetime({ offset: true });
const Name = z.string().min(1).max(180);
const Guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a lowercase UUID');
/** A resource instance id in a path: its GUID, or its CRN (percent-decoded by the router). */
export const InstanceId = z.string().min(1).max(512);
const JsonObject = z.record(z.string(), z.unknown());
const queryInt = z.preprocess((value) => (typeof value === 'string' && /^[0-9]{1,9}$/.test(value) ? Number(value) : value), z.number().int());

// ---------- HTTP bodies (ResourceControllerV2) ----------

/** createResourceInstance. `parameters.kms_key` (a root key CRN) selects customer-managed encryption; `parameters.purge_protection` opts in. */
export const CreateResourceInstanceBody = z.strictObject({
  name: Name,
  /** A region id from the configured regions (e.g. `us-south`), or `global`. */
  target: z.string().min(1).max(64),
  resource_group: z.string().min(1).max(64),
  resource_plan_id: z.string().min(1).max(128),
  tags: z.array(z.string().min(1).max(128)).max(100).optional(),
  allow_cleanup: z.boolean().optional(),
  parameters: JsonObject.optional(),
});
export type CreateResourceInstanceBody = z.infer<typeof CreateResourceInstanceBody>;

export const UpdateResourceInstanceBody = z.strictObject({
  name: Name.optional(),
  parameters: JsonObject.optional(),
  resource_plan_id: z.string().min(1).max(128).optional(),
  allow_cleanup: z.boolean().optional(),
});
export type UpdateResourceInstanceBody = z.infer<typeof UpdateResourceInstanceBody>;

export const ListResourceInstancesQuery = z.object({
  guid: z.string().max(64).optional(),
  name: z.string().max(180).optional(),
  resource_group_id: z.string().max(64).optional(),
  resource_id: z.string().max(64).optional(),
  resource_plan_id: z.string().max(128).optional(),
  type: z.string().max(64).optional(),
  sub_type: z.string().max(64).optional(),
  limit: queryInt.pipe(z.number().min(1).max(100)).default(100),
  /** An opaque cursor from `next_url`. */
  start: z.string().min(1).max(256).optional(),
  state: InstanceState.optional(),
  updated_from: DateTime.optional(),
  updated_to: DateTime.optional(),
});
export type ListResourceInstancesQuery = z.infer<typeof ListResourceInstancesQuery>;

export const ListReclamationsQuery = z.object({
  account_id: z.string().max(64).optional(),
  resource_instance_id: z.string().max(64).optional(),
  resource_group_id: z.string().max(64).optional(),
});
export type ListReclamationsQuery = z.infer<typeof ListReclamationsQuery>;

export const ReclamationActionBody = z.strictObject({
  request_by: z.string().max(256).optional(),
  comment: z.string().max(1024).optional(),
});
export type ReclamationActionBody = z.infer<typeof ReclamationActionBody>;

// ---------- HTTP responses ----------

export const LastOperation = z.object({
  type: z.string(),
  sub_type: z.string().optional(),
  state: z.enum(['in progress', 'succeeded', 'failed']),
  async: z.boolean(),
  description: z.string().optional(),
  cancelable: z.boolean(),
  poll: z.boolean(),
});
export type LastOperation = z.infer<typeof LastOperation>;

export const PlanHistoryItem = z.object({ resource_plan_id: z.string(), start_date: DateTime, requestor_id: z.string().optional() });

export const ResourceInstance = z.object({
  /** The CRN. */
  id: z.string(),
  guid: z.string(),
  crn: z.string(),
  url: z.string(),
  name: z.string(),
  region_id: z.string(),
  account_id: z.string(),
  resource_plan_id: z.string(),
  resource_group_id: z.string(),
  resource_group_crn: z.string().optional(),
  /** The service (catalog entry) id: `secrets-manager`, `kms` or `hs-crypto`. */
  resource_id: z.string(),
  target_crn: z.string().optional(),
  type: z.literal('service_instance'),
  sub_type: z.string().nullable().optional(),
  state: InstanceState,
  locked: z.boolean(),
  allow_cleanup: z.boolean(),
  parameters: JsonObject.optional(),
  tags: z.array(z.string()).optional(),
  extensions: JsonObject.optional(),
  created_at: DateTime,
  created_by: z.string(),
  updated_at: DateTime,
  updated_by: z.string().optional(),
  deleted_at: DateTime.nullable().optional(),
  deleted_by: z.string().optional(),
  scheduled_reclaim_at: DateTime.nullable().optional(),
  scheduled_reclaim_by: z.string().optional(),
  restored_at: DateTime.nullable().optional(),
  restored_by: z.string().optional(),
  plan_history: z.array(PlanHistoryItem),
  last_operation: LastOperation.optional(),
  dashboard_url: z.string().nullable().optional(),
  resource_aliases_url: z.string().optional(),
  resource_bindings_url: z.string().optional(),
  resource_keys_url: z.string().optional(),
});
export type ResourceInstance = z.infer<typeof ResourceInstance>;

export const ResourceInstancesList = z.object({
  rows_count: z.number().int().min(0),
  /** Null on the last page: the SDK pager stops there. */
  next_url: z.string().nullable(),
  resources: z.array(ResourceInstance),
});
export type ResourceInstancesList = z.infer<typeof ResourceInstancesList>;

export const Reclamation = z.object({
  id: z.string(),
  entity_id: z.string(),
  entity_type_id: z.string(),
  entity_crn: z.string(),
  resource_instance_id: z.string(),
  resource_group_id: z.string(),
  account_id: z.string(),
  policy_id: z.string(),
  state: ReclamationState,
  target_time: DateTime,
  custom_properties: JsonObject.optional(),
  created_at: DateTime,
  created_by: z.string(),
  updated_at: DateTime,
  updated_by: z.string(),
});
export type Reclamation = z.infer<typeof Reclamation>;

export const ReclamationsList = z.object({ resources: z.array(Reclamation) });
export type ReclamationsList = z.infer<typeof ReclamationsList>;

/** One plan of the catalog (configuration). */
export const Plan = z.object({
  id: z.string(),
  name: z.string(),
  service: LifecycleServiceName,
  reclamation: z.boolean(),
  retentionSeconds: z.number().int().min(0),
  retired: z.boolean(),
});
export type Plan = z.infer<typeof Plan>;

// ---------- service requests (NATS) ----------

export const CreateInstanceRequest = z.strictObject({ body: CreateResourceInstanceBody, entityLock: z.boolean().optional() });
export type CreateInstanceRequest = z.infer<typeof CreateInstanceRequest>;

export const InstanceRef = z.strictObject({ id: InstanceId });
export type InstanceRef = z.infer<typeof InstanceRef>;

/** listResourceInstances; `path` is the list's path: `next_url` repeats it with `start`. */
export const ListInstancesRequest = z.strictObject({ path: z.string().min(1).max(256), query: ListResourceInstancesQuery });
export type ListInstancesRequest = z.infer<typeof ListInstancesRequest>;

export const UpdateInstanceRequest = z.strictObject({ id: InstanceId, body: UpdateResourceInstanceBody });
export type UpdateInstanceRequest = z.infer<typeof UpdateInstanceRequest>;

export const DeleteInstanceRequest = z.strictObject({ id: InstanceId, recursive: z.boolean().optional() });
export type DeleteInstanceRequest = z.infer<typeof DeleteInstanceRequest>;

export const ListReclamationsRequest = z.strictObject({ query: ListReclamationsQuery });
export type ListReclamationsRequest = z.infer<typeof ListReclamationsRequest>;

export const ReclamationActionRequest = z.strictObject({ id: z.string().min(1).max(64), action: ReclamationAction, body: ReclamationActionBody });
export type ReclamationActionRequest = z.infer<typeof ReclamationActionRequest>;

/** An operator retires a plan: its instances are deleted into reclamation with reason `plan_retired`. */
export const RetirePlanRequest = z.strictObject({ planId: z.string().min(1).max(128) });
export type RetirePlanRequest = z.infer<typeof RetirePlanRequest>;
export const RetirePlanResponse = z.object({ planId: z.string(), instances: z.number().int().min(0) });
export type RetirePlanResponse = z.infer<typeof RetirePlanResponse>;

export const PlanList = z.object({ plans: z.array(Plan) });
export type PlanList = z.infer<typeof PlanList>;

export const Empty = z.object({}).strict();
export type Empty = z.infer<typeof Empty>;

export { Guid as InstanceGuid };
