import { LifecycleWire } from '@sealbox/contracts';
import { jsonObjectOption, stringOption, timeoutOption, waitOptions, type Command, type Context } from '../command.js';
import { usage } from '../errors.js';
import { emit, fields, table } from '../output.js';
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

const wants = (context: Context) => context.values['no-wait'] !== true;

const create: Command = {
  words: ['resource', 'service-instance-create'],
  usage: 'NAME SERVICE PLAN LOCATION [-p JSON|@FILE] [-g GROUP] [--no-wait] [--timeout SECONDS]',
  summary: 'Create a service instance (secrets-manager, kms, hs-crypto) and wait until it is provisioned',
  options: { parameters: { type: 'string', short: 'p' }, group: { type: 'string', short: 'g' }, ...waitOptions },
  positionals: [4, 4],
  async run(context) {
    const [name = '', service = '', plan = '', location = ''] = context.positionals;
    const parameters = stringOption(context.values, 'parameters');
    const body: LifecycleWire.CreateResourceInstanceBody = {
      name,
      target: location,
      resource_group: stringOption(context.values, 'group') ?? 'default',
      resource_plan_id: planIdOf(service, plan),
      ...(parameters !== undefined ? { parameters: jsonObjectOption(parameters, '-p') } : {}),
    };
    const timeout = timeoutOption(context.values);
    const gateway = context.gateway();
    const answer = await gateway.request({ method: 'POST', path: '/v2/resource_instances', json: body });
    let instance = answerOf(LifecycleWire.ResourceInstance, answer, 'POST /v2/resource_instances');
    if (wants(context) && provisioned.outcome(instance) !== 'succeeded') {
      instance = await waitForInstance(context.io, context.format, gateway, instance.guid, provisioned, timeout);
    }
    emit(context.io.stdout, context.format, instance, () => `Service instance ${instance.name} was created.\n\n${instanceFields(instance)}`);
  },
};

const show: Command = {
  words: ['resource', 'service-instance'],
  usage: 'NAME|GUID|CRN',
  summary: 'Show a service instance (also a removed one, by GUID or CRN)',
  positionals: [1, 1],
  async run(context) {
    const instance = await findInstance(context.gateway(), context.positionals[0] ?? '');
    emit(context.io.stdout, context.format, instance, () => instanceFields(instance));
  },
};

const list: Command = {
  words: ['resource', 'service-instances'],
  usage: '[--service-name SERVICE] [--location REGION] [--state STATE]',
  summary: 'List the service instances of the account',
  options: { 'service-name': { type: 'string' }, location: { type: 'string' }, state: { type: 'string' } },
  async run(context) {
    const state = stringOption(context.values, 'state');
    if (state !== undefined && !LifecycleWire.InstanceState.safeParse(state).success) {
      throw usage(`--state must be one of ${LifecycleWire.InstanceStates.join(', ')}`);
    }
    const location = stringOption(context.values, 'location');
    const instances = (await listInstances(context.gateway(), { resource_id: stringOption(context.values, 'service-name'), state })).filter(
      (instance) => location === undefined || instance.region_id === location,
    );
    emit(context.io.stdout, context.format, instances, () =>
      instances.length === 0
        ? 'No service instance found.\n'
        : table(instances, [
            ['Name', (i) => i.name],
            ['Location', (i) => i.region_id],
            ['State', (i) => i.state],
            ['Service', (i) => i.resource_id],
            ['Plan', (i) => i.resource_plan_id],
            ['GUID', (i) => i.guid],
          ]),
    );
  },
};

const remove: Command = {
  words: ['resource', 'service-instance-delete'],
  usage: 'NAME|GUID [-f] [--recursive]',
  summary: 'Delete a service instance: on a plan with reclamation it can be restored until the reclamation is due',
  options: { force: { type: 'boolean', short: 'f' }, recursive: { type: 'boolean' } },
  positionals: [1, 1],
  async run(context) {
    const gateway = context.gateway();
    const instance = await findInstance(gateway, context.positionals[0] ?? '');
    if (context.values['force'] !== true) {
      if (!context.io.confirm) throw usage(`Deleting ${instance.name} (${instance.guid}) needs confirmation: add -f to delete without asking`);
      if (!(await context.io.confirm(`Delete service instance ${instance.name} (${instance.guid})?`))) {
        context.io.stderr.write('Not deleted.\n');
        return;
      }
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

const reclamations: Command = {
  words: ['resource', 'reclamations'],
  usage: '[--resource-instance-id GUID] [--resource-group-id ID]',
  summary: 'List reclamations (deleted instances that can still be restored)',
  options: { 'resource-instance-id': { type: 'string' }, 'resource-group-id': { type: 'string' } },
  async run(context) {
    const instanceId = stringOption(context.values, 'resource-instance-id');
    if (instanceId !== undefined && !isGuid(instanceId)) throw usage('--resource-instance-id must be an instance GUID');
    const found = await listReclamations(context.gateway(), {
      resource_instance_id: instanceId,
      resource_group_id: stringOption(context.values, 'resource-group-id'),
    });
    emit(context.io.stdout, context.format, found, () => (found.length === 0 ? 'No reclamation found.\n' : table(found, reclamationColumns)));
  },
};

function reclamationCommand(action: LifecycleWire.ReclamationAction, word: string, summary: string): Command {
  const goal = action === 'restore' ? restored : reclaimed;
  return {
    words: ['resource', word],
    usage: 'ID [--comment TEXT] [--no-wait] [--timeout SECONDS]',
    summary,
    options: { comment: { type: 'string' }, ...waitOptions },
    positionals: [1, 1],
    async run(context) {
      const id = context.positionals[0] ?? '';
      const timeout = timeoutOption(context.values);
      const comment = stringOption(context.values, 'comment');
      const gateway = context.gateway();
      const reclamation = await reclamationAction(gateway, id, action, comment !== undefined ? { comment } : {});
      const instance = wants(context)
        ? await waitForInstance(context.io, context.format, gateway, reclamation.resource_instance_id, goal, timeout)
        : undefined;
      const outcome = instance ? (action === 'restore' ? `restored: ${instance.name} is ${instance.state}` : `reclaimed: the instance is ${instance.state}`) : `${reclamation.state}`;
      emit(context.io.stdout, context.format, { reclamation, ...(instance ? { instance } : {}) }, () =>
        `Reclamation ${reclamation.id} of ${reclamation.resource_instance_id} ${outcome}.\n`,
      );
    },
  };
}

export const resourceCommands: readonly Command[] = [
  create,
  show,
  list,
  remove,
  reclamations,
  reclamationCommand('restore', 'reclamation-restore', 'Restore a deleted instance (its data is readable again) and wait until it is active'),
  reclamationCommand('reclaim', 'reclamation-delete', 'Delete a reclaimed instance for good now and wait until it is removed'),
];

