import { beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../errors.js';
import { bodyOf, cli, h, ibmError, instance, key, keyCollection, KMS_GUID, login, on, requestsTo, routes, useCliHarness } from '../testing/harness.js';

useCliHarness();
beforeEach(() => login());

const ID = 'a1b2c3d4-0000-4000-8000-000000000001';
const MATERIAL = 'c2VjcmV0LWtleS1tYXRlcmlhbA==';

describe('kp', () => {
  it('keys sends Bluemix-Instance and prints the keys', async () => {
    routes(on('GET', '/kms/api/v2/keys', () => ({ status: 200, body: keyCollection(key(), key({ id: 'k2', name: 'std', extractable: true, state: 2 })) })));
    const result = await cli(['kp', 'keys', '-i', KMS_GUID]);
    expect(result.code).toBe(ExitCode.OK);
    expect(h.server.single().headers['bluemix-instance']).toBe(KMS_GUID);
    expect(result.stdout).toMatch(/root-1\s+root\s+Active/);
    expect(result.stdout).toMatch(/std\s+standard\s+Suspended/);
  });

  it('takes the instance by name (a kms or hs-crypto one)', async () => {
    routes(
      on('GET', '/v2/resource_instances', () => ({ status: 200, body: { rows_count: 1, next_url: null, resources: [instance({ guid: KMS_GUID, name: 'my-kms', resource_id: 'hs-crypto' })] } })),
      on('GET', '/kms/api/v2/keys', () => ({ status: 200, body: keyCollection() })),
    );
    expect((await cli(['kp', 'keys', '-i', 'my-kms'])).code).toBe(ExitCode.OK);
    expect(requestsTo('GET', '/kms/api/v2/keys')[0]?.headers['bluemix-instance']).toBe(KMS_GUID);
  });

  it('key-create posts a Key Protect key collection and never prints key material', async () => {
    routes(on('POST', '/kms/api/v2/keys', () => ({ status: 201, body: keyCollection(key({ name: 'std', extractable: true, payload: MATERIAL })) })));
    const result = await cli(['kp', 'key-create', 'std', '-i', KMS_GUID, '--standard', '--output', 'json']);
    expect(result.code).toBe(ExitCode.OK);
    const request = h.server.single();
    expect(request.headers['content-type']).toBe('application/vnd.ibm.kms.key+json');
    expect(request.headers['bluemix-instance']).toBe(KMS_GUID);
    expect(bodyOf(request)).toEqual({
      metadata: { collectionType: 'application/vnd.ibm.kms.key+json', collectionTotal: 1 },
      resources: [{ type: 'application/vnd.ibm.kms.key+json', name: 'std', extractable: true }],
    });
    expect(result.stdout).not.toContain(MATERIAL);
    expect(JSON.parse(result.stdout)).toMatchObject({ name: 'std', extractable: true });
  });

  it('key-create imports key material given with -k @- (stdin)', async () => {
    routes(on('POST', '/kms/api/v2/keys', () => ({ status: 201, body: keyCollection(key({ imported: true })) })));
    const result = await cli(['kp', 'key-create', 'imported', '-i', KMS_GUID, '-k', '@-'], { readStdin: async () => `${MATERIAL}\n` });
    expect(result.code).toBe(ExitCode.OK);
    expect(bodyOf(h.server.single())).toMatchObject({ resources: [{ name: 'imported', payload: MATERIAL, extractable: false }] });
    expect(result.stdout).not.toContain(MATERIAL);
  });

  it('key shows a key without its material; --field payload prints it raw', async () => {
    routes(on('GET', `/kms/api/v2/keys/${ID}`, () => ({ status: 200, body: keyCollection(key({ extractable: true, payload: MATERIAL })) })));
    const shown = await cli(['kp', 'key', ID, '-i', KMS_GUID]);
    expect(shown.stdout).toMatch(/Type:\s+standard/);
    expect(shown.stdout).not.toContain(MATERIAL);
    expect(JSON.parse((await cli(['kp', 'key', ID, '-i', KMS_GUID, '--output', 'json'])).stdout)).not.toHaveProperty('payload');
    expect((await cli(['kp', 'key', ID, '-i', KMS_GUID, '--field', 'payload'])).stdout).toBe(MATERIAL);
  });

  it.each([
    ['key-disable', 'disable', 2, 'was disabled: Suspended'],
    ['key-enable', 'enable', 1, 'was enabled: Active'],
    ['key-rotate', 'rotate', 1, 'was rotated: Active, version v2'],
  ] as const)('%s posts the %s action (asking nothing) and shows the key after it', async (word, action, state, shown) => {
    routes(
      on('POST', `/kms/api/v2/keys/${ID}/actions/${action}`, () => ({ status: 204 })),
      on('GET', `/kms/api/v2/keys/${ID}/metadata`, () => ({ status: 200, body: keyCollection(key({ state, keyVersion: { id: action === 'rotate' ? 'v2' : 'v1', creationDate: '2027-01-15T08:00:00.000Z' } })) })),
    );
    const result = await cli(['kp', word, ID, '-i', KMS_GUID]);
    expect(result.code).toBe(ExitCode.OK);
    const posted = requestsTo('POST', `/kms/api/v2/keys/${ID}/actions/${action}`)[0];
    expect(posted?.headers['bluemix-instance']).toBe(KMS_GUID);
    expect(posted?.headers['content-type']).toBe(`application/vnd.ibm.kms.key_action_${action}+json`);
    expect(result.stdout).toContain(shown);
  });

  it('key-delete (restorable for 30 days) asks nothing, sends force only with --with-registrations; key-restore brings it back', async () => {
    routes(
      on('DELETE', `/kms/api/v2/keys/${ID}`, () => ({ status: 200, body: keyCollection(key({ state: 5, deleted: true })) })),
      on('POST', `/kms/api/v2/keys/${ID}/restore`, () => ({ status: 201, body: keyCollection(key()) })),
    );
    const deleted = await cli(['kp', 'key-delete', ID, '-i', KMS_GUID]);
    expect(deleted.code).toBe(ExitCode.OK);
    expect(deleted.stdout).toContain(`sealbox kp key-restore ${ID}`);
    const request = requestsTo('DELETE', `/kms/api/v2/keys/${ID}`)[0];
    expect(request?.headers['prefer']).toBe('return=representation');
    expect(request?.query).toEqual({});
    await cli(['kp', 'key-delete', ID, '-i', KMS_GUID, '--with-registrations']);
    expect(requestsTo('DELETE', `/kms/api/v2/keys/${ID}`)[1]?.query).toEqual({ force: 'true' });
    const restored = await cli(['kp', 'key-restore', ID, '-i', KMS_GUID]);
    expect(restored.code).toBe(ExitCode.OK);
    expect(restored.stdout).toContain('was restored: Active');
  });

  it('import-token-create posts the expiration and retrievals', async () => {
    routes(on('POST', '/kms/api/v2/import_token', () => ({ status: 200, body: { creationDate: 'c', expirationDate: 'e', expiration: 900, maxAllowedRetrievals: 2, remainingRetrievals: 2 } })));
    const result = await cli(['kp', 'import-token-create', '-i', KMS_GUID, '-e', '900', '-m', '2']);
    expect(result.code).toBe(ExitCode.OK);
    expect(bodyOf(h.server.single())).toEqual({ expiration: 900, maxAllowedRetrievals: 2 });
    expect(result.stdout).toMatch(/Retrievals left:\s+2 of 2/);
    expect((await cli(['kp', 'import-token-create', '-i', KMS_GUID, '-e', 'soon'])).code).toBe(ExitCode.USAGE);
  });

  it('an instance the caller cannot see exits 1 with the 403', async () => {
    routes(on('GET', '/kms/api/v2/keys', () => ibmError(403, 'FORBIDDEN', 'You are not authorized to perform kms.key.list')));
    const result = await cli(['kp', 'keys', '-i', KMS_GUID]);
    expect(result.code).toBe(ExitCode.SERVER);
    expect(result.stderr).toContain('FORBIDDEN: You are not authorized');
  });
});
