import { LifecycleWire } from '@sealbox/contracts';
import { type CommandSpec, confirmed, fieldOption, forceOption, jsonObject, show as showOne, showList, stringOption, timeoutOption, waitOptions, waits } from '../command.js';
import { usage } from '../errors.js';
import type { Gateway } from '../http.js';
import { emit, fields } from '../output.js';
import { answerOf, findInstance, getInstance, isGuid, listInstances, listReclamations, reclamationAction } from '../resource-api.js';
import { provisioned, reclaimed, restored, waitForInstance } from '../wait.js';

type Instance = LifecycleWire.ResourceInstance;
type Reclamation = LifecycleWire.Reclamation;

/** `ibmcloud resource` takes a plan name or id: `standard` for `secrets-manager` is the plan `secrets-manager-standard`. */
export function planIdOf(service: string, plan: string): string {
  return plan.startsWith(`${service}-`) ? plan : `${service}-${plan}`;
}

const instanceFields = (i: Instance) =>
  fields([
    ['Name', i.name],
    ['ID', i.id],
    ['GUID', i.guid],
    ['Location', i.region_id],
    ['Service Name', i.resource_id],
    ['Service Plan Name', i.resource_plan_id],
    ['Resource Group ID', i.resource_group_id],
    ['State', i.state],
    ['Locked', i.locked],
    ['Created at', i.created_at],
    ['Updated at', i.updated_at],
    ...(i.deleted_at ? ([['Deleted at', i.deleted_at]] as const) : []),
    ...(i.scheduled_reclaim_at ? ([['Scheduled reclaim at', i.scheduled_reclaim_at]] as const) : []),
    ...(i.restored_at ? ([['Restored at', i.restored_at]] as const) : []),
    ...(i.last_operation
      ? ([['Last Operation', `${i.last_operation.type} ${i.last_operation.state}${i.last_operation.description ? `: ${i.last_operation.description}` : ''}`]] as const)
      : []),
  ]);

const reclamationColumns = [
  ['ID', (r: Reclamation) => r.id],
  ['Resource Instance ID', (r: Reclamation) => r.resource_instance_id],
  ['State', (r: Reclamation) => r.state],
  ['Target Time', (r: Reclamation) => r.target_time],
  ['Resource Group ID', (r: Reclamation) => r.resource_group_id],
] as const;

const create: CommandSpec = {
  words: ['resource', 'service-instance-create'],
  summary: 'Create a service instance (secrets-manager, kms, hs-crypto) and wait until it is provisioned',
  arguments: ['<name>', '<service>', '<plan>', '<location>'],
  options: [
    { flags: '-p, --parameters <json>', description: 'parameters as a JSON object, e.g. {"kms_key":"crn:…"} (customer-managed encryption)' },
    { flags: '-g, --group <group>', description: 'resource group (default: default)' },
    ...waitOptions,
  ],
  examples: ['sealbox resource service-instance-create my-sm secrets-manager standard us-south', `sealbox resource service-instance-create my-sm secrets-manager standard us-south -p '{"kms_key":"crn:…"}'`],
  async run(context) {
    const [name = '', service = '', plan = '', location = ''] = context.positionals;
    const parameters = stringOption(context.values, 'parameters');
    const body: LifecycleWire.CreateResourceInstanceBody = {
      name,
      target: location,
      resource_group: stringOption(context.values, 'group') ?? 'default',
      resource_plan_id: planIdOf(service, plan),
      ...(parameters !== undefined ? { parameters: jsonObject(parameters, '--parameters') } : {}),
    };
    const timeout = timeoutOption(context.values);
    const gateway = context.gateway();
    const answer = await gateway.request({ method: 'POST', path: '/v2/resource_instances', json: body });
    let instance = answerOf(LifecycleWire.ResourceInstance, answer, 'POST /v2/resource_instances');
    if (waits(context) && provisioned.outcome(instance) !== 'succeeded') {
      instance = await waitForInstance(context.io, context.format, gateway, instance.guid, provisioned, timeout);
    }
    emit(context.io.stdout, context.format, instance, () => `Service instance ${instance.name} was created.\n\n${instanceFields(instance)}`);
  },
};

const show: CommandSpec = {
  words: ['resource', 'service-instance'],
  summary: 'Show a service instance (also a removed one, by GUID or CRN)',
  arguments: ['<instance>'],
  options: [fieldOption],
  examples: ['sealbox resource service-instance my-sm', 'sealbox resource service-instance my-sm --field guid'],
  async run(context) {
    const instance = await findInstance(context.gateway(), context.positionals[0] ?? '');
    showOne(context, instance, () => instanceFields(instance));
  },
};

const list: CommandSpec = {
  words: ['resource', 'service-instances'],
  summary: 'List the service instances of the account',
  options: [
    { flags: '--service-name <service>', description: 'only instances of this service (secrets-manager, kms, hs-crypto)' },
    { flags: '--location <region>', description: 'only instances in this region' },
    { flags: '--state <state>', description: `only instances in this state (${LifecycleWire.InstanceStates.join(', ')})` },
  ],
  async run(context) {
    const state = stringOption(context.values, 'state');
    if (state !== undefined && !LifecycleWire.InstanceState.safeParse(state).success) {
      throw usage(`--state must be one of ${LifecycleWire.InstanceStates.join(', ')}`);
    }
    const location = stringOption(context.values, 'location');
    const instances = (await listInstances(context.gateway(), { resource_id: stringOption(context.values, 'service-name'), state })).filter(
      (instance) => location === undefined || instance.region_id === location,
    );
    showList(context, instances, [
      ['Name', (i) => i.name],
      ['Location', (i) => i.region_id],
      ['State', (i) => i.state],
      ['Service', (i) => i.resource_id],
      ['Plan', (i) => i.resource_plan_id],
      ['GUID', (i) => i.guid],
    ], 'No service instance found.');
  },
};

/** Whether the plan keeps deleted instances for restore (`GET /v1/plans`); an unknown plan counts as not. */
async function hasReclamation(gateway: Gateway, planId: string): Promise<boolean> {
  const answer = await gateway.request({ method: 'GET', path: '/v1/plans' });
  return answerOf(LifecycleWire.PlanList, answer, 'GET /v1/plans').plans.some((plan) => plan.id === planId && plan.reclamation);
}

const remove: CommandSpec = {
  words: ['resource', 'service-instance-delete'],
  summary: 'Delete a service instance: on a plan with reclamation it can be restored until the reclamation is due',
  description:
    'Deletes a service instance. On a plan with reclamation (the standard plans) it is only scheduled for deletion and can be restored with `reclamation-restore`: no confirmation is asked. On a plan without, it is deleted for good, after a confirmation (or -f).',
  arguments: ['<instance>'],
  options: [forceOption, { flags: '--recursive', description: 'also delete the resources bound to it' }],
  async run(context) {
    const gateway = context.gateway();
    const instance = await findInstance(gateway, context.positionals[0] ?? '');
    if (!(await hasReclamation(gateway, instance.resource_plan_id))) {
      if (!(await confirmed(context, `Delete service instance ${instance.name} (${instance.guid}) and all its data for good?`))) return;
    }
    await gateway.request({
      method: 'DELETE',
      path: `/v2/resource_instances/${encodeURIComponent(instance.guid)}`,
      ...(context.values['recursive'] === true ? { query: { recursive: true } } : {}),
    });
    const after = await getInstance(gateway, instance.guid);
    const reclamation =
      after.state === 'pending_reclamation'
        ? (await listReclamations(gateway, { resource_instance_id: instance.guid })).find((r) => r.state === 'SCHEDULED')
        : undefined;
    emit(context.io.stdout, context.format, { instance: after, ...(reclamation ? { reclamation } : {}) }, () =>
      reclamation
        ? `Service instance ${after.name} (${after.guid}) was deleted: state ${after.state}.\n` +
          `Reclamation ${reclamation.id} is ${reclamation.state} until ${reclamation.target_time}.\n` +
          `Restore it with: sealbox resource reclamation-restore ${reclamation.id}\n` +
          `Delete it now for good with: sealbox resource reclamation-delete ${reclamation.id}\n`
        : `Service instance ${after.name} (${after.guid}) was deleted: state ${after.state}.\n`,
    );
  },
};

const reclamations: CommandSpec = {
  words: ['resource', 'reclamations'],
  summary: 'List reclamations (deleted instances that can still be restored)',
  options: [
    { flags: '--resource-instance-id <guid>', description: 'only the reclamations of this instance' },
    { flags: '--resource-group-id <id>', description: 'only those of this resource group' },
  ],
  async run(context) {
    const instanceId = stringOption(context.values, 'resource-instance-id');
    if (instanceId !== undefined && !isGuid(instanceId)) throw usage('--resource-instance-id must be an instance GUID');
    const found = await listReclamations(context.gateway(), {
      resource_instance_id: instanceId,
      resource_group_id: stringOption(context.values, 'resource-group-id'),
    });
    showList(context, found, reclamationColumns, 'No reclamation found.');
  },
};

function reclamationCommand(action: LifecycleWire.ReclamationAction, word: string, summary: string): CommandSpec {
  const goal = action === 'restore' ? restored : reclaimed;
  const irreversible = action === 'reclaim';
  return {
    words: ['resource', word],
    summary,
    arguments: ['<reclamation-id>'],
    options: [{ flags: '--comment <text>', description: 'why (recorded with the reclamation)' }, ...waitOptions, ...(irreversible ? [forceOption] : [])],
    async run(context) {
      const id = context.positionals[0] ?? '';
      const timeout = timeoutOption(context.values);
      const comment = stringOption(context.values, 'comment');
      if (irreversible && !(await confirmed(context, `Delete the instance of reclamation ${id} and all its data for good?`))) return;
      const gateway = context.gateway();
      const reclamation = await reclamationAction(gateway, id, action, comment !== undefined ? { comment } : {});
      const instance = waits(context)
        ? await waitForInstance(context.io, context.format, gateway, reclamation.resource_instance_id, goal, timeout)
        : undefined;
      const outcome = instance ? (action === 'restore' ? `restored: ${instance.name} is ${instance.state}` : `reclaimed: the instance is ${instance.state}`) : `${reclamation.state}`;
      emit(context.io.stdout, context.format, { reclamation, ...(instance ? { instance } : {}) }, () =>
        `Reclamation ${reclamation.id} of ${reclamation.resource_instance_id} ${outcome}.\n`,
      );
    },
  };
}

export const resourceCommands: readonly CommandSpec[] = [
  create,
  show,
  list,
  remove,
  reclamations,
  reclamationCommand('restore', 'reclamation-restore', 'Restore a deleted instance (its data is readable again) and wait until it is active'),
  reclamationCommand('reclaim', 'reclamation-delete', 'Delete a reclaimed instance for good now and wait until it is removed'),
];

