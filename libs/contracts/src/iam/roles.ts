/**
 * IAM roles and the ONE table of actions: every action the system checks, with the roles that grant
 * it. DO NOT RENAME an action or a role: policies and audit events name them.
 */

export const PlatformRoles = ['Viewer', 'Operator', 'Editor', 'Administrator'] as const;
export const ServiceRoles = ['Reader', 'SecretsReader', 'Writer', 'Manager'] as const;
export type PlatformRole = (typeof PlatformRoles)[number];
export type ServiceRole = (typeof ServiceRoles)[number];
export type RoleName = PlatformRole | ServiceRole;

export const roleCrn = (role: RoleName): string =>
  (PlatformRoles as readonly string[]).includes(role)
    ? `crn:v1:bluemix:public:iam::::role:${role}`
    : `crn:v1:bluemix:public:iam::::serviceRole:${role}`;

export function roleFromCrn(crn: string): RoleName | undefined {
  const match = /^crn:v1:bluemix:public:iam::::(role|serviceRole):(\w+)$/.exec(crn);
  if (!match) return undefined;
  const [, kind, name] = match;
  const list: readonly string[] = kind === 'role' ? PlatformRoles : ServiceRoles;
  return list.includes(name ?? '') ? (name as RoleName) : undefined;
}

export const RoleDescriptions: Record<RoleName, string> = {
  Viewer: 'See instances and resources; cannot change them',
  Operator: 'Perform platform actions such as managing service IDs and API keys',
  Editor: 'Create, update and delete instances',
  Administrator: 'All platform actions, including assigning access to others',
  Reader: 'See secrets and keys metadata',
  SecretsReader: 'Reader, and read secret payloads',
  Writer: 'SecretsReader, and create, update, rotate and lock secrets; create and rotate keys, wrap and unwrap with them',
  Manager: 'All service actions, including deleting secrets and keys',
};

/** Services whose resources policies address. */
export const IamServiceNames = [
  'secrets-manager',
  'kms',
  'hs-crypto',
  'iam-identity',
  'iam-access-management',
  'user-management',
  'resource-controller',
  /** The account's event stream (`GET /v1/events`). */
  'event-stream',
] as const;
export type IamServiceName = (typeof IamServiceNames)[number];

const readers: ServiceRole[] = ['Reader', 'SecretsReader', 'Writer', 'Manager'];
const secretReaders: ServiceRole[] = ['SecretsReader', 'Writer', 'Manager'];
const writers: ServiceRole[] = ['Writer', 'Manager'];
const managers: ServiceRole[] = ['Manager'];
const viewers: PlatformRole[] = ['Viewer', 'Operator', 'Editor', 'Administrator'];
const operators: PlatformRole[] = ['Operator', 'Editor', 'Administrator'];
const editors: PlatformRole[] = ['Editor', 'Administrator'];
const administrators: PlatformRole[] = ['Administrator'];

const kmsVerbs = {
  'key.list': readers,
  'key.read': readers,
  'key.wrap': writers,
  'key.unwrap': writers,
  'key.rewrap': writers,
  'key.create': writers,
  'key.import': writers,
  'key.rotate': writers,
  'key.disable': managers,
  'key.enable': managers,
  'key.delete': managers,
  'key.restore': managers,
  'key.purge': managers,
  'registration.read': readers,
  'instance.read': readers,
  'instance.manage': managers,
} as const;

/** The same key actions for Key Protect-like (`kms`) and HPCS-like (`hs-crypto`) instances. */
function kmsActions<S extends 'kms' | 'hs-crypto'>(service: S) {
  return Object.fromEntries(Object.entries(kmsVerbs).map(([verb, roles]) => [`${service}.${verb}`, roles])) as {
    [V in keyof typeof kmsVerbs as `${S}.${V}`]: (typeof kmsVerbs)[V];
  };
}

/** action → roles that grant it. docs/iam.md shows this table (`npm run docs:config`). */
export const ActionRoles = {
  'secrets-manager.secret.list': readers,
  'secrets-manager.secret.metadata.read': readers,
  'secrets-manager.secret.read': secretReaders,
  'secrets-manager.secret.create': writers,
  'secrets-manager.secret.update': writers,
  'secrets-manager.secret.rotate': writers,
  'secrets-manager.secret.lock': writers,
  'secrets-manager.secret.delete': managers,
  'secrets-manager.secret.revoke': writers,
  'secrets-manager.configuration.list': readers,
  'secrets-manager.configuration.read': readers,
  'secrets-manager.configuration.create': managers,
  'secrets-manager.configuration.update': managers,
  'secrets-manager.configuration.delete': managers,
  'secrets-manager.configuration.action': managers,
  'secrets-manager.secret-group.list': readers,
  'secrets-manager.secret-group.read': readers,
  'secrets-manager.secret-group.create': managers,
  'secrets-manager.secret-group.update': managers,
  'secrets-manager.secret-group.delete': managers,
  ...kmsActions('kms'),
  ...kmsActions('hs-crypto'),
  'resource-controller.instance.list': viewers,
  'resource-controller.instance.read': viewers,
  'resource-controller.instance.create': editors,
  'resource-controller.instance.update': editors,
  'resource-controller.instance.delete': editors,
  'resource-controller.instance.lock': editors,
  'resource-controller.reclamation.list': viewers,
  'resource-controller.reclamation.restore': editors,
  'resource-controller.reclamation.reclaim': administrators,
  'iam-identity.serviceid.list': viewers,
  'iam-identity.serviceid.read': viewers,
  'iam-identity.serviceid.create': operators,
  'iam-identity.serviceid.delete': operators,
  'iam-identity.apikey.list': viewers,
  'iam-identity.apikey.read': viewers,
  'iam-identity.apikey.create': operators,
  'iam-identity.apikey.update': operators,
  'iam-identity.apikey.lock': operators,
  'iam-identity.apikey.delete': operators,
  'iam-identity.account-settings.read': viewers,
  'iam-identity.account-settings.update': administrators,
  /**
   * Create accounts and list them: a platform operator's action. Checked only in the platform account
   * (the one created on first start); in any other account no policy makes it allowed.
   */
  'iam-identity.account.create': administrators,
  'iam-identity.account.list': administrators,
  'user-management.user.list': viewers,
  'user-management.user.read': viewers,
  'user-management.user.invite': editors,
  'user-management.user.remove': editors,
  'iam-access-management.policy.list': viewers,
  'iam-access-management.policy.read': viewers,
  'iam-access-management.role.list': viewers,
  /** The readiness details (versions, replicas, failing dependencies) behind the public ready/not-ready answer. */
  'sealbox.readiness.read': administrators,
  /**
   * Seal the key store (every key dropped from memory) and change its unseal secret or rotate its
   * master key: platform operators, checked in the platform account only (`iam.operator.authorize`).
   */
  'sealbox.seal': administrators,
  'sealbox.rekey': administrators,
  /** Follow the account's events over HTTP (ids and types only, never secret material; audit events name who did what). */
  'event-stream.event.read': readers,
} as const satisfies Record<string, readonly RoleName[]>;

export type Action = keyof typeof ActionRoles;
export const Actions = Object.keys(ActionRoles) as Action[];

export function isAction(value: string): value is Action {
  return Object.hasOwn(ActionRoles, value);
}

export function serviceOfAction(action: Action): IamServiceName {
  return action.split('.')[0] as IamServiceName;
}

export function rolesGranting(action: Action): readonly RoleName[] {
  return ActionRoles[action];
}
