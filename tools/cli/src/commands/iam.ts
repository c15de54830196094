import { IamWire, PlatformRoles, roleCrn, ServiceRoles, type RoleName } from '@sealbox/contracts';
import { chmodSync, writeFileSync } from 'node:fs';
import type { z } from 'zod';
import { type CommandSpec, confirmed, type Context, forceOption, jsonObject, listOption, requiredOption, showList, stringOption } from '../command.js';
import { CliError, ExitCode, usage } from '../errors.js';
import type { Gateway, Query } from '../http.js';
import { GROUP_SERVICES, resolveInstance } from '../instance.js';
import { emit, fields, table } from '../output.js';
import { answerOf } from '../resource-api.js';

const MAX_PAGES = 1_000;

/** Every page of an IAM Identity list, following its `next` URL. */
async function allPages<T extends z.ZodType>(gateway: Gateway, path: string, query: Query, schema: T, items: (page: z.output<T>) => readonly unknown[], next: (page: z.output<T>) => Query | string | undefined): Promise<unknown[]> {
  const found: unknown[] = [];
  let request: { path: string; query?: Query } = { path, query };
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const answer = answerOf(schema, await gateway.request({ method: 'GET', ...request }), `GET ${path}`);
    found.push(...items(answer));
    const following = next(answer);
    if (following === undefined) return found;
    if (typeof following === 'string') {
      const url = new URL(following, 'http://next.invalid');
      request = { path: url.pathname, query: Object.fromEntries(url.searchParams) };
    } else {
      request = { path, query: { ...query, ...following } };
    }
  }
  throw new CliError(ExitCode.SERVER, `GET ${path} kept answering a next page (${MAX_PAGES} pages)`);
}

async function serviceIds(gateway: Gateway): Promise<IamWire.ServiceId[]> {
  return (await allPages(gateway, '/v1/serviceids', { account_id: gateway.accountId, pagesize: 100 }, IamWire.ServiceIdList, (page) => page.serviceids, (page) => page.next)) as IamWire.ServiceId[];
}

/** A service ID by id (`ServiceId-…`) or name (exactly one must have it). */
async function findServiceId(gateway: Gateway, ref: string): Promise<IamWire.ServiceId> {
  if (ref.startsWith('ServiceId-')) {
    return answerOf(IamWire.ServiceId, await gateway.request({ method: 'GET', path: `/v1/serviceids/${encodeURIComponent(ref)}` }), 'GET /v1/serviceids/{id}');
  }
  const named = (await serviceIds(gateway)).filter((serviceId) => serviceId.name === ref);
  const [only] = named;
  if (only && named.length === 1) return only;
  if (named.length > 1) throw usage(`${named.length} service IDs are named ${ref}; name one by its id: ${named.map((s) => s.id).join(', ')}`);
  throw new CliError(ExitCode.SERVER, `NOT_FOUND: no service ID named ${ref}`, { code: 'NOT_FOUND' });
}

/** An IAM ID as policies name it: given as one (`iam-…`, `IBMid-…`), or the IAM ID of a service ID (id or name). */
async function iamIdOf(gateway: Gateway, subject: string): Promise<string> {
  if (/^(iam-|IBMid-)/.test(subject)) return subject;
  return (await findServiceId(gateway, subject)).iam_id;
}

/** `Reader,Writer` → role CRNs (a CRN is taken as it is). */
function rolesOf(text: string): { role_id: string }[] {
  const known: readonly string[] = [...PlatformRoles, ...ServiceRoles];
  return listOption(text).map((role) => {
    if (role.startsWith('crn:')) return { role_id: role };
    const name = known.find((candidate) => candidate.toLowerCase() === role.toLowerCase());
    if (!name) throw usage(`${role} is not a role (${known.join(', ')})`);
    return { role_id: roleCrn(name as RoleName) };
  });
}

const attribute = (name: string, value: string) => ({ name, value });

/** An instance for a policy attribute: a GUID, or a name or CRN of one of `services` looked up. */
async function instanceGuid(context: Context, ref: string, service: string): Promise<string> {
  const group = (Object.keys(GROUP_SERVICES) as (keyof typeof GROUP_SERVICES)[]).find((name) => GROUP_SERVICES[name].includes(service));
  if (!group) {
    if (/^[0-9a-f-]{36}$/i.test(ref)) return ref.toLowerCase();
    throw usage(`Name the ${service} instance by its GUID`);
  }
  return (await resolveInstance(() => context.gateway(), ref, group)).guid;
}

const policyColumns = [
  ['ID', (p: IamWire.Policy) => p.id],
  ['Type', (p: IamWire.Policy) => p.type],
  ['Subject', (p: IamWire.Policy) => p.subjects[0]?.attributes.map((a) => `${a.name}=${a.value}`).join(' ')],
  ['Roles', (p: IamWire.Policy) => p.roles.map((r) => r.display_name ?? r.role_id.split(':').at(-1)).join(', ')],
  ['Resource', (p: IamWire.Policy) => p.resources[0]?.attributes.filter((a) => a.name !== 'accountId').map((a) => `${a.name}=${a.value}`).join(' ')],
] as const;

async function createPolicy(context: Context, body: unknown): Promise<IamWire.Policy> {
  const answer = await context.gateway().request({ method: 'POST', path: '/v1/policies', json: body });
  return answerOf(IamWire.Policy, answer, 'POST /v1/policies');
}

const policyShown = (policy: IamWire.Policy) => `Policy ${policy.id} was created.\n\n${table([policy], policyColumns)}`;

const serviceIdCreate: CommandSpec = {
  words: ['iam', 'service-id-create'],
  summary: 'Create a service ID (an identity for an application)',
  arguments: ['<name>'],
  options: [{ flags: '-d, --description <text>', description: 'what it is for' }],
  async run(context) {
    const gateway = context.gateway();
    const description = stringOption(context.values, 'description');
    const body = { account_id: gateway.accountId, name: context.positionals[0], ...(description !== undefined ? { description } : {}) };
    const created = answerOf(IamWire.ServiceId, await gateway.request({ method: 'POST', path: '/v1/serviceids', json: body }), 'POST /v1/serviceids');
    emit(context.io.stdout, context.format, created, () =>
      `Service ID ${created.name} was created.\n\n${fields([
        ['ID', created.id],
        ['IAM ID', created.iam_id],
        ['CRN', created.crn],
      ])}`,
    );
  },
};

const serviceIdsList: CommandSpec = {
  words: ['iam', 'service-ids'],
  summary: 'List the service IDs of the account',
  async run(context) {
    const found = await serviceIds(context.gateway());
    showList(context, found, [
      ['ID', (s) => s.id],
      ['Name', (s) => s.name],
      ['IAM ID', (s) => s.iam_id],
      ['Description', (s) => s.description],
      ['Created', (s) => s.created_at],
    ], 'No service ID found.');
  },
};

const serviceApiKeyCreate: CommandSpec = {
  words: ['iam', 'service-api-key-create'],
  summary: 'Create an API key for a service ID (its value is shown once: keep it, or --file)',
  arguments: ['<name>', '<service-id>'],
  options: [
    { flags: '-d, --description <text>', description: 'what the key is for' },
    { flags: '--file <file>', description: 'write the key (JSON, mode 0600) to this file instead of printing its value' },
  ],
  examples: ['sealbox iam service-api-key-create app-key my-app --file app-key.json'],
  async run(context) {
    const gateway = context.gateway();
    const [name = '', ref = ''] = context.positionals;
    const serviceId = await findServiceId(gateway, ref);
    const description = stringOption(context.values, 'description');
    const body = { name, iam_id: serviceId.iam_id, account_id: gateway.accountId, ...(description !== undefined ? { description } : {}) };
    const key = answerOf(IamWire.ApiKey, await gateway.request({ method: 'POST', path: '/v1/apikeys', json: body }), 'POST /v1/apikeys');
    const file = stringOption(context.values, 'file');
    if (file !== undefined) {
      writeFileSync(file, `${JSON.stringify({ name: key.name, description: key.description, apikey: key.apikey, iam_id: key.iam_id, id: key.id, created_at: key.created_at }, null, 2)}\n`, { mode: 0o600 });
      chmodSync(file, 0o600);
    }
    const shown = file === undefined ? key : { ...key, apikey: undefined, file };
    emit(context.io.stdout, context.format, shown, () =>
      `API key ${key.name} was created for ${serviceId.name}.\n\n${fields([
        ['ID', key.id],
        ...(file === undefined ? ([['API key', key.apikey]] as const) : ([['Saved to', file]] as const)),
      ])}${file === undefined ? 'Keep the API key now: it cannot be shown again.\n' : ''}`,
    );
  },
};

const apiKeys: CommandSpec = {
  words: ['iam', 'api-keys'],
  summary: 'List API keys of the account (never their values)',
  options: [{ flags: '--iam-id <iam-id>', description: 'only the keys of this identity' }],
  async run(context) {
    const gateway = context.gateway();
    const iamId = stringOption(context.values, 'iam-id');
    const found = (await allPages(
      gateway,
      '/v1/apikeys',
      { account_id: gateway.accountId, pagesize: 100, iam_id: iamId },
      IamWire.ApiKeyList,
      (page) => page.apikeys,
      (page) => page.next,
    )) as IamWire.ApiKey[];
    showList(context, found, [
      ['ID', (k) => k.id],
      ['Name', (k) => k.name],
      ['IAM ID', (k) => k.iam_id],
      ['Locked', (k) => k.locked],
      ['Created', (k) => k.created_at],
    ], 'No API key found.');
  },
};

const apiKeyDelete: CommandSpec = {
  words: ['iam', 'api-key-delete'],
  summary: 'Delete an API key, for good (asks first, or -f)',
  arguments: ['<id>'],
  options: [forceOption],
  async run(context) {
    const id = context.positionals[0] ?? '';
    if (!(await confirmed(context, `Delete API key ${id}? Whatever uses it stops working.`))) return;
    await context.gateway().request({ method: 'DELETE', path: `/v1/apikeys/${encodeURIComponent(id)}` });
    emit(context.io.stdout, context.format, { id, deleted: true }, () => `API key ${id} was deleted.\n`);
  },
};

const accessPolicyCreate: CommandSpec = {
  words: ['iam', 'access-policy-create'],
  summary: 'Grant roles to an identity (a user or a service ID) on a service, an instance or a resource',
  arguments: ['[subject]'],
  options: [
    { flags: '-r, --roles <roles>', description: `roles, comma-separated (${[...ServiceRoles, ...PlatformRoles].join(', ')})` },
    { flags: '--service-name <service>', description: 'the service (secrets-manager, kms, hs-crypto, event-stream, resource-controller…); all when absent' },
    { flags: '--service-instance <instance>', description: 'only this instance (name, GUID or CRN)' },
    { flags: '--resource-type <type>', description: 'only this kind of resource (secret, key…)' },
    { flags: '--resource <id>', description: 'only this resource' },
    { flags: '--file <json>', description: 'the whole policy as JSON, instead of the options above' },
  ],
  examples: [
    'sealbox iam access-policy-create my-app --roles SecretsReader --service-name secrets-manager --service-instance my-sm',
    'sealbox iam access-policy-create my-app --roles Reader --service-name event-stream',
  ],
  async run(context) {
    const { values } = context;
    const file = stringOption(values, 'file');
    if (file !== undefined) {
      const policy = await createPolicy(context, jsonObject(file, '--file'));
      return emit(context.io.stdout, context.format, policy, () => policyShown(policy));
    }
    const subject = context.positionals[0];
    if (!subject) throw usage('Name the subject (an IAM ID, or a service ID by id or name), or give --file');
    const gateway = context.gateway();
    const service = stringOption(values, 'service-name');
    const instance = stringOption(values, 'service-instance');
    const resourceType = stringOption(values, 'resource-type');
    const resource = stringOption(values, 'resource');
    if (instance !== undefined && service === undefined) throw usage('--service-instance needs --service-name');
    const body = {
      type: 'access',
      subjects: [{ attributes: [attribute('iam_id', await iamIdOf(gateway, subject))] }],
      roles: rolesOf(requiredOption(values, 'roles')),
      resources: [
        {
          attributes: [
            attribute('accountId', gateway.accountId),
            ...(service !== undefined ? [attribute('serviceName', service)] : []),
            ...(instance !== undefined && service !== undefined ? [attribute('serviceInstance', await instanceGuid(context, instance, service))] : []),
            ...(resourceType !== undefined ? [attribute('resourceType', resourceType)] : []),
            ...(resource !== undefined ? [attribute('resource', resource)] : []),
          ],
        },
      ],
    };
    const policy = await createPolicy(context, body);
    emit(context.io.stdout, context.format, policy, () => policyShown(policy));
  },
};

const accessPolicies: CommandSpec = {
  words: ['iam', 'access-policies'],
  summary: 'List the policies of the account (access and authorization)',
  options: [
    { flags: '--iam-id <iam-id>', description: 'only the policies of this identity' },
    { flags: '--type <type>', description: 'access or authorization' },
  ],
  async run(context) {
    const gateway = context.gateway();
    const type = stringOption(context.values, 'type');
    if (type !== undefined && type !== 'access' && type !== 'authorization') throw usage('--type takes access or authorization');
    const found = (await allPages(
      gateway,
      '/v1/policies',
      { account_id: gateway.accountId, iam_id: stringOption(context.values, 'iam-id'), type, limit: 100 },
      IamWire.PolicyList,
      (page) => page.policies,
      (page) => (page.next ? { start: page.next.start } : undefined),
    )) as IamWire.Policy[];
    showList(context, found, policyColumns, 'No policy found.');
  },
};

const authorizationPolicyCreate: CommandSpec = {
  words: ['iam', 'authorization-policy-create'],
  summary: 'Authorize a service (e.g. secrets-manager) to use the keys of a kms or hs-crypto instance',
  arguments: ['<source-service>', '<target-service>', '<roles>'],
  options: [
    { flags: '--source-service-instance-id <instance>', description: 'only this source instance (name, GUID or CRN); all of the service when absent' },
    { flags: '--target-service-instance-id <instance>', description: 'the target instance (name, GUID or CRN; required)' },
  ],
  examples: ['sealbox iam authorization-policy-create secrets-manager kms Reader --target-service-instance-id my-kms'],
  async run(context) {
    const [source = '', target = '', roles = ''] = context.positionals;
    const gateway = context.gateway();
    const sourceInstance = stringOption(context.values, 'source-service-instance-id');
    const targetInstance = requiredOption(context.values, 'target-service-instance-id');
    const body = {
      type: 'authorization',
      subjects: [
        {
          attributes: [
            attribute('accountId', gateway.accountId),
            attribute('serviceName', source),
            ...(sourceInstance !== undefined ? [attribute('serviceInstance', await instanceGuid(context, sourceInstance, source))] : []),
          ],
        },
      ],
      roles: rolesOf(roles),
      resources: [
        {
          attributes: [attribute('accountId', gateway.accountId), attribute('serviceName', target), attribute('serviceInstance', await instanceGuid(context, targetInstance, target))],
        },
      ],
    };
    const policy = await createPolicy(context, body);
    emit(context.io.stdout, context.format, policy, () => policyShown(policy));
  },
};

export const iamCommands: readonly CommandSpec[] = [
  serviceIdCreate,
  serviceIdsList,
  serviceApiKeyCreate,
  apiKeys,
  apiKeyDelete,
  accessPolicyCreate,
  accessPolicies,
  authorizationPolicyCreate,
];
