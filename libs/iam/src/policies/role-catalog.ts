import {
  ActionRoles,
  Actions,
  PlatformRoles,
  roleCrn,
  RoleDescriptions,
  ServiceRoles,
  serviceOfAction,
  type IamWire,
  type RoleName,
} from '@sealbox/contracts';
import type { z } from 'zod';

type RoleInfo = z.infer<typeof IamWire.RoleInfo>;
type RoleList = z.infer<typeof IamWire.RoleList>;
type ListRolesRequest = z.infer<typeof IamWire.ListRolesRequest>;

/** The actions `role` grants, from the one action table; only those of `serviceName` when given. */
export function actionsOf(role: RoleName, serviceName?: string): string[] {
  return Actions.filter(
    (action) =>
      (ActionRoles[action] as readonly RoleName[]).includes(role) && (serviceName === undefined || serviceOfAction(action) === serviceName),
  );
}

function info(role: RoleName, serviceName?: string): RoleInfo {
  return {
    role_id: roleCrn(role),
    crn: roleCrn(role),
    name: role,
    display_name: role,
    description: RoleDescriptions[role],
    actions: actionsOf(role, serviceName),
  };
}

/**
 * `GET /v2/roles`: the platform roles as system roles and the service roles, each with the actions
 * it grants. For `policy_type=authorization` only what an authorization can grant (Reader).
 */
export function roleCatalog(request: ListRolesRequest): RoleList {
  if (request.policy_type === 'authorization') {
    return { custom_roles: [], system_roles: [], service_roles: [info('Reader', request.service_name)] };
  }
  return {
    custom_roles: [],
    system_roles: PlatformRoles.map((role) => info(role, request.service_name)),
    service_roles: ServiceRoles.map((role) => info(role, request.service_name)),
  };
}
