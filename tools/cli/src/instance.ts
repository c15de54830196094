import { stringOption, type Context } from './command.js';
import { readTarget, type TargetGroup, type TargetInstance } from './config.js';
import { usage } from './errors.js';
import type { Gateway } from './http.js';
import { findInstance, isGuid } from './resource-api.js';

/** The services each instance-scoped group works with. */
export const GROUP_SERVICES: Readonly<Record<TargetGroup, readonly string[]>> = {
  sm: ['secrets-manager'],
  kp: ['kms', 'hs-crypto'],
};
const GROUP_LABEL: Readonly<Record<TargetGroup, string>> = { sm: 'Secrets Manager', kp: 'Key Protect (kms or hs-crypto)' };

/** The group an instance of `service` belongs to, if any. */
export const groupOf = (service: string): TargetGroup | undefined =>
  (Object.keys(GROUP_SERVICES) as TargetGroup[]).find((group) => GROUP_SERVICES[group].includes(service));

/** `crn:v1:<cloud>:public:<service>:<region>:a/<account>:<guid>::` → service and GUID. */
export function crnParts(crn: string): { service: string; guid: string } | undefined {
  const fields = crn.split(':');
  const [prefix, , , , service, , , guid] = fields;
  return prefix === 'crn' && service && guid && isGuid(guid) ? { service, guid: guid.toLowerCase() } : undefined;
}

/**
 * An instance named by GUID (taken as it is), CRN or name (looked up: exactly one live instance of
 * the group's services must have it).
 */
export async function resolveInstance(gateway: () => Gateway, ref: string, group: TargetGroup): Promise<{ guid: string }> {
  if (isGuid(ref)) return { guid: ref.toLowerCase() };
  if (ref.startsWith('crn:')) {
    const parts = crnParts(ref);
    if (!parts) throw usage(`${ref} is not an instance CRN (crn:v1:…:<service>:<region>:a/<account>:<guid>::)`);
    if (!GROUP_SERVICES[group].includes(parts.service)) throw usage(`${ref} is a ${parts.service} instance; this command needs a ${GROUP_LABEL[group]} instance`);
    return { guid: parts.guid };
  }
  return findInstance(gateway(), ref, GROUP_SERVICES[group]);
}

/** The instance of an `sm` / `kp` command: `-i NAME|GUID|CRN`, else the default set by `sealbox target`. */
export async function instanceOf(context: Context, group: TargetGroup): Promise<string> {
  const ref = stringOption(context.values, 'instance') ?? stringOption(context.values, 'instance-id');
  if (ref !== undefined && ref !== '') return (await resolveInstance(() => context.gateway(), ref, group)).guid;
  const target = readTarget(context.configDir)[group];
  if (target) return target.guid;
  throw usage(`Which ${GROUP_LABEL[group]} instance? Add -i NAME|GUID|CRN, or set a default: sealbox target --instance NAME`);
}

/** The instance `sealbox target --instance REF` stores: looked up in full, whatever REF is. */
export async function targetInstance(gateway: Gateway, ref: string): Promise<{ group: TargetGroup; instance: TargetInstance }> {
  const found = await findInstance(gateway, ref, [...GROUP_SERVICES.sm, ...GROUP_SERVICES.kp]);
  const group = groupOf(found.resource_id);
  if (!group) throw usage(`${ref} is a ${found.resource_id} instance; a target is a Secrets Manager or Key Protect instance`);
  if (found.state === 'removed') throw usage(`${ref} was removed`);
  return { group, instance: { guid: found.guid, name: found.name, service: found.resource_id } };
}

/** The `-i` option of instance-scoped commands (and the older `--instance-id`). */
export const instanceOptions = [
  { flags: '-i, --instance <instance>', description: 'the instance: name, GUID or CRN (default: sealbox target)' },
  { flags: '--instance-id <instance>', description: 'same as --instance', hidden: true },
] as const;
