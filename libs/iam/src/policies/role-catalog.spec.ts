import { ActionRoles, Actions, IamWire, PlatformRoles, roleCrn, ServiceRoles, type RoleName } from '@sealbox/contracts';
import { describe, expect, it } from 'vitest';
import { actionsOf, roleCatalog } from './role-catalog.js';

describe('roleCatalog', () => {
  it('lists the platform roles as system roles and the service roles, with their CRNs and descriptions', () => {
    const roles = IamWire.RoleList.parse(roleCatalog({}));
    expect(roles.custom_roles).toEqual([]);
    expect(roles.system_roles.map((role) => role.crn)).toEqual(PlatformRoles.map(roleCrn));
    expect(roles.service_roles.map((role) => role.display_name)).toEqual([...ServiceRoles]);
    for (const role of [...roles.system_roles, ...roles.service_roles]) {
      expect(role.role_id).toBe(role.crn);
      expect(role.description).not.toBe('');
    }
  });

  it('gives each role exactly the actions the action table grants it', () => {
    const roles = roleCatalog({});
    for (const role of [...roles.system_roles, ...roles.service_roles]) {
      const expected = Actions.filter((action) => (ActionRoles[action] as readonly string[]).includes(role.name));
      expect(role.actions).toEqual(expected);
    }
    // Key Protect: Reader lists and reads keys; wrapping and unwrapping need Writer.
    expect(actionsOf('Reader')).toContain('kms.key.list');
    expect(actionsOf('Reader')).not.toContain('kms.key.wrap');
    expect(actionsOf('Writer')).toContain('kms.key.wrap');
    expect(actionsOf('Reader')).not.toContain('secrets-manager.secret.read');
    expect(actionsOf('SecretsReader')).toContain('secrets-manager.secret.read');
  });

  it('keeps only the actions of service_name', () => {
    const roles = roleCatalog({ service_name: 'kms' });
    const manager = roles.service_roles.find((role) => role.name === 'Manager');
    expect(manager?.actions).toContain('kms.key.delete');
    expect(manager?.actions.every((action) => action.startsWith('kms.'))).toBe(true);
    expect(roles.system_roles.every((role) => role.actions.length === 0)).toBe(true);
    const admin = roleCatalog({ service_name: 'resource-controller' }).system_roles.find((role) => role.name === 'Administrator');
    expect(admin?.actions).toContain('resource-controller.reclamation.reclaim');
  });

  it('offers only Reader for authorization policies', () => {
    const roles = roleCatalog({ policy_type: 'authorization', service_name: 'kms', source_service_name: 'secrets-manager' });
    expect(roles.system_roles).toEqual([]);
    expect(roles.service_roles.map((role) => role.name as RoleName)).toEqual(['Reader']);
  });
});
