import type { RoleName } from '@sealbox/contracts';
import { describe, expect, it } from 'vitest';
import type { AccessGrant, Attribute } from './engine.js';
import { canListPolicies, canReadPolicies, holdsCovering, missingManagementRole, type PolicyScope } from './management.js';

const A = 'account-a';
const eq = (name: string, value: string): Attribute => ({ name, value });
const match = (name: string, value: string): Attribute => ({ name, value, operator: 'stringMatch' });
const grant = (roles: RoleName[], ...resource: Attribute[]): AccessGrant => ({ id: roles.join('+'), roles, resource });

const accessOn = (...resource: Attribute[]): PolicyScope => ({ type: 'access', subject: [eq('iam_id', 'IBMid-bob')], resource });

const authorization = (source: Attribute[] = [], target: Attribute[] = []): PolicyScope => ({
  type: 'authorization',
  subject: [eq('accountId', A), eq('serviceName', 'secrets-manager'), ...source],
  resource: [eq('accountId', A), eq('serviceName', 'kms'), eq('serviceInstance', 'kms-1'), ...target],
});

describe('access policy management', () => {
  const smInstance = accessOn(eq('accountId', A), eq('serviceName', 'secrets-manager'), eq('serviceInstance', 'sm-1'));

  it('lets an account administrator manage any access policy of the account', () => {
    const admin = [grant(['Administrator'], eq('accountId', A))];
    expect(missingManagementRole(admin, smInstance)).toBeUndefined();
    expect(missingManagementRole(admin, accessOn(eq('accountId', A)))).toBeUndefined();
    expect(missingManagementRole(admin, accessOn(eq('accountId', A), match('serviceInstance', '*')))).toBeUndefined();
  });

  it('lets a service administrator manage policies inside that service only', () => {
    const smAdmin = [grant(['Administrator'], eq('accountId', A), eq('serviceName', 'secrets-manager'))];
    expect(missingManagementRole(smAdmin, smInstance)).toBeUndefined();
    expect(missingManagementRole(smAdmin, accessOn(eq('accountId', A), eq('serviceName', 'kms')))).toContain('Administrator');
    // Account-wide is wider than the service.
    expect(missingManagementRole(smAdmin, accessOn(eq('accountId', A)))).toContain('Administrator');
  });

  it('lets a wildcard administrator manage only what the wildcard covers', () => {
    const prodAdmin = [
      grant(['Administrator'], eq('accountId', A), eq('serviceName', 'secrets-manager'), match('serviceInstance', 'prod-*')),
    ];
    const on = (instance: Attribute) => accessOn(eq('accountId', A), eq('serviceName', 'secrets-manager'), instance);
    expect(missingManagementRole(prodAdmin, on(eq('serviceInstance', 'prod-1')))).toBeUndefined();
    expect(missingManagementRole(prodAdmin, on(match('serviceInstance', 'prod-eu-*')))).toBeUndefined();
    expect(missingManagementRole(prodAdmin, on(match('serviceInstance', 'p*')))).toBeDefined();
    expect(missingManagementRole(prodAdmin, on(eq('serviceInstance', 'dev-1')))).toBeDefined();
  });

  it('needs Administrator: every other role, however strong on the service, is not enough', () => {
    const strong = [grant(['Editor', 'Operator', 'Viewer', 'Manager', 'Writer'], eq('accountId', A))];
    expect(missingManagementRole(strong, smInstance)).toBe(
      'Managing this access policy needs the Administrator role on a resource covering its resource',
    );
    expect(missingManagementRole([], smInstance)).toBeDefined();
  });
});

describe('authorization policy management', () => {
  const kmsAdmin = grant(['Administrator'], eq('accountId', A), eq('serviceName', 'kms'), eq('serviceInstance', 'kms-1'));
  const smViewer = grant(['Viewer'], eq('accountId', A), eq('serviceName', 'secrets-manager'));

  it('needs Administrator on the target instance and at least Viewer on the source', () => {
    expect(missingManagementRole([kmsAdmin, smViewer], authorization())).toBeUndefined();
    expect(
      missingManagementRole([grant(['Administrator'], eq('accountId', A))], authorization([eq('serviceInstance', 'sm-1')])),
    ).toBeUndefined();
    // A key-scoped authorization needs the same: Administrator on the instance.
    expect(
      missingManagementRole([kmsAdmin, smViewer], authorization([], [eq('resourceType', 'key'), eq('resource', 'k1')])),
    ).toBeUndefined();
  });

  it('says which role is missing', () => {
    expect(missingManagementRole([smViewer], authorization())).toBe(
      'Managing this authorization needs the Administrator role on kms instance kms-1',
    );
    expect(missingManagementRole([kmsAdmin], authorization())).toBe(
      'Managing this authorization needs at least the Viewer role on the source service secrets-manager',
    );
    expect(missingManagementRole([kmsAdmin], authorization([eq('serviceInstance', 'sm-1')]))).toBe(
      'Managing this authorization needs at least the Viewer role on the source service secrets-manager instance sm-1',
    );
  });

  it('does not take Administrator on another KMS instance, or a service role on the target', () => {
    const otherKms = grant(['Administrator'], eq('accountId', A), eq('serviceName', 'kms'), eq('serviceInstance', 'kms-2'));
    const kmsManager = grant(['Manager'], eq('accountId', A), eq('serviceName', 'kms'), eq('serviceInstance', 'kms-1'));
    expect(missingManagementRole([otherKms, smViewer], authorization())).toContain('Administrator');
    expect(missingManagementRole([kmsManager, smViewer], authorization())).toContain('Administrator');
  });

  it('takes any platform role on the source, but not Viewer on another source instance or a service role', () => {
    for (const role of ['Viewer', 'Operator', 'Editor', 'Administrator'] as const) {
      expect(
        missingManagementRole([kmsAdmin, grant([role], eq('accountId', A), eq('serviceName', 'secrets-manager'))], authorization()),
      ).toBeUndefined();
    }
    const otherInstance = grant(['Viewer'], eq('accountId', A), eq('serviceName', 'secrets-manager'), eq('serviceInstance', 'sm-2'));
    expect(missingManagementRole([kmsAdmin, otherInstance], authorization([eq('serviceInstance', 'sm-1')]))).toContain('Viewer');
    // Viewer on one instance does not cover an authorization for every instance of the service.
    expect(missingManagementRole([kmsAdmin, otherInstance], authorization())).toContain('Viewer');
    const reader = grant(['Reader'], eq('accountId', A), eq('serviceName', 'secrets-manager'));
    expect(missingManagementRole([kmsAdmin, reader], authorization())).toContain('Viewer');
  });
});

describe('reading and listing policies', () => {
  it('needs Viewer (or stronger) on iam-access-management, as an account administrator has', () => {
    expect(canReadPolicies([grant(['Administrator'], eq('accountId', A))], A)).toBe(true);
    expect(canListPolicies([grant(['Viewer'], eq('accountId', A), eq('serviceName', 'iam-access-management'))], A)).toBe(true);
    expect(canReadPolicies([grant(['Manager'], eq('accountId', A))], A)).toBe(false);
    expect(canListPolicies([grant(['Viewer'], eq('accountId', A), eq('serviceName', 'secrets-manager'))], A)).toBe(false);
    expect(canListPolicies([], A)).toBe(false);
  });

  it('holdsCovering checks roles and coverage together', () => {
    const grants = [grant(['Viewer'], eq('accountId', A), eq('serviceName', 'kms'))];
    expect(holdsCovering(grants, ['Viewer'], [eq('accountId', A), eq('serviceName', 'kms')])).toBe(true);
    expect(holdsCovering(grants, ['Editor'], [eq('accountId', A), eq('serviceName', 'kms')])).toBe(false);
    expect(holdsCovering(grants, ['Viewer'], [eq('accountId', A)])).toBe(false);
  });
});
