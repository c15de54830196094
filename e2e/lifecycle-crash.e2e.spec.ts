import { KmsWire, LifecycleWire } from '@sealbox/contracts';
import { IamAuthenticator } from 'ibm-cloud-sdk-core';
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureStackRunning, restartApp, stackInfo, stopStackApp } from './harness/context.js';
import { poll } from './harness/http.js';
import { adminSession, createAccountOverNats, type AdminSession } from './harness/iam.js';
import { keyCreateBody, keyProtectClient } from './harness/kms.js';
import {
  apiFailure,
  authorizationsFrom,
  bucketListed,
  databaseRemnants,
  eventsNamed,
  getInstance,
  keyAuthorization,
  LifecycleClock,
  LIFECYCLE_RECORDS,
  lifecycleClients,
  pollInstance,
  reclamationsOf,
  s3Client,
  statusOf,
  type LifecycleClients,
} from './harness/lifecycle.js';
import { smClient } from './harness/secrets.js';

/**
 * The permanent delete of a Secrets Manager instance is a persisted saga that survives its process:
 * - killed (SIGKILL) in the middle, after the bucket step, lifecycle finishes it after a restart;
 * - without the service-to-service authorization the key registration step is `blocked` (with the
 *   reason, and a `lifecycle.saga.step-failed` event) until an authorization exists again.
 *
 * How the crash lands deterministically after the bucket step, with no test hook in lifecycle: this
 * test holds a row lock (`SELECT … FOR UPDATE`) on the instance's key registration in kms's table,
 * so kms's `DELETE` of it waits. Steps 1 (secrets) and 2 (bucket) finish; step 3 (the registration)
 * cannot, however often it is retried, so the saga sits at "step 3 of 4" for as long as the test
 * wants. The test checks the bucket is gone, then also holds lifecycle's row of the instance at a
 * moment the saga is `running` (a try in flight, under the process's lease), kills lifecycle, releases
 * both locks and starts it again. The restarted process leaves the dead one's lease alone and takes the
 * saga over at its recorded step once the lease has run out on lifecycle's clock, which the test moves.
 * (The dead process's writes that waited on the row are transactions: they roll back with its connection.)
 */

const stack = stackInfo();
const gateway = stack.gatewayUrl;
const tag = `lcc-${stack.runId}`;
/** The saga columns of `sealbox_lifecycle.resource_instances` (bigint ms come back as strings). */
const SAGA_COLUMNS = 'saga, saga_step, saga_status, saga_lease_until';
interface SagaRow {
  readonly saga: string | null;
  readonly saga_step: string | null;
  readonly saga_status: string | null;
  readonly saga_lease_until: string | null;
}

describe('lifecycle: the permanent delete saga survives a crash and a missing authorization', () => {
  const clock = LifecycleClock.of(stack);
  const s3 = s3Client(stack);
  let session: AdminSession;
  let clients: LifecycleClients;
  let kp: ReturnType<typeof keyProtectClient>;
  let kmsGuid = '';
  let keyId = '';
  let keyCrn = '';
  let accountPolicyId = '';
  /** The transactions holding row locks (kms's registration, lifecycle's instance), while they are held. */
  let locker: pg.Client | undefined;
  let rowLocker: pg.Client | undefined;

  beforeAll(async () => {
    const apikey = (await createAccountOverNats(stack, `${tag}-account`)).apikey;
    session = await adminSession(stack, apikey);
    clients = lifecycleClients(gateway, apikey);
    kp = keyProtectClient(gateway, new IamAuthenticator({ apikey, url: gateway }));

    const kms = LifecycleWire.ResourceInstance.parse(
      (await clients.rc.createResourceInstance({ name: `${tag}-kms`, target: 'us-south', resourceGroup: 'default', resourcePlanId: 'kms-standard' })).result,
    );
    kmsGuid = kms.guid;
    const root = KmsWire.KeyCollection.parse((await kp.createKey({ bluemixInstance: kmsGuid, body: keyCreateBody({ name: `${tag}-root` }) })).result).resources[0];
    keyId = root?.id ?? '';
    keyCrn = root?.crn ?? '';
    accountPolicyId = (await clients.policies.createPolicy(keyAuthorization(session.accountId, kmsGuid))).result.id ?? '';
  });

  afterEach(async () => {
    for (const client of [rowLocker, locker]) {
      await client?.query('ROLLBACK').catch(() => undefined);
      await client?.end().catch(() => undefined);
    }
    [rowLocker, locker] = [undefined, undefined];
    await ensureStackRunning(stack);
  });

  afterAll(() => {
    clock.reset();
  });

  /** A new active Secrets Manager instance on the root key, with one secret, deleted into reclamation; its reclamation. */
  async function instanceInReclamation(name: string): Promise<{ instance: LifecycleWire.ResourceInstance; reclamationId: string }> {
    const created = LifecycleWire.ResourceInstance.parse(
      (
        await clients.rc.createResourceInstance({
          name: `${tag}-${name}`,
          target: 'us-south',
          resourceGroup: 'default',
          resourcePlanId: 'secrets-manager-standard',
          parameters: { kms_key: keyCrn },
        })
      ).result,
    );
    const instance = await pollInstance(clients.rc, created.guid, (current) => current.state !== 'provisioning');
    expect(instance.state).toBe('active');
    await smClient(stack, session.token, instance.guid).createSecret({ secret_type: 'arbitrary', name: `${tag}-${name}-secret`, payload: 'to be reclaimed' });
    expect((await clients.rc.deleteResourceInstance({ id: instance.guid })).status).toBe(204);
    const [reclamation] = await reclamationsOf(clients.rc, instance.guid);
    expect(reclamation?.state).toBe('SCHEDULED');
    return { instance, reclamationId: reclamation?.id ?? '' };
  }

  /** The saga columns of lifecycle's row of an instance, as stored. */
  async function sagaRow(guid: string): Promise<SagaRow | undefined> {
    const client = new pg.Client({ connectionString: stack.databaseUrl });
    await client.connect();
    try {
      return (await client.query<SagaRow>(`SELECT ${SAGA_COLUMNS} FROM sealbox_lifecycle.resource_instances WHERE guid = $1`, [guid])).rows[0];
    } finally {
      await client.end();
    }
  }

  const registeredCrns = async () =>
    (KmsWire.RegistrationCollection.parse((await kp.getRegistrations({ id: keyId, bluemixInstance: kmsGuid })).result).resources ?? []).map(
      (registration) => registration.resourceCrn,
    );

  /** Nothing of the instance anywhere but lifecycle's own record of it (outbox rows go once relayed). */
  async function expectNothingLeft(instance: LifecycleWire.ResourceInstance): Promise<void> {
    const remnants = await poll(() => databaseRemnants(stack.databaseUrl, [instance.guid], LIFECYCLE_RECORDS), (found) => found.length === 0, { intervalMs: 200, maxPolls: 50 });
    expect(remnants.value).toEqual([]);
    expect(await bucketListed(s3, instance.guid)).toBe(false);
    expect(await registeredCrns()).not.toContain(instance.crn);
    expect(await authorizationsFrom(clients.policies, session.accountId, instance.guid)).toEqual([]);
  }

  it('killed after the bucket step, lifecycle finishes the permanent delete after a restart', async () => {
    const { instance, reclamationId } = await instanceInReclamation('crash');
    expect(await registeredCrns()).toContain(instance.crn);

    // Hold the registration's row: kms's DELETE of it waits until this transaction ends.
    locker = new pg.Client({ connectionString: stack.databaseUrl });
    await locker.connect();
    await locker.query('BEGIN');
    const locked = await locker.query('SELECT 1 FROM sealbox_kms.kms_registrations WHERE key_id = $1 AND resource_crn = $2 FOR UPDATE', [keyId, instance.crn]);
    expect(locked.rowCount).toBe(1);

    const reclaimed = await clients.rc.runReclamationAction({ id: reclamationId, actionName: 'reclaim' });
    expect(LifecycleWire.Reclamation.parse(reclaimed.result).state).toBe('RECLAIMING');
    const atStep3 = await pollInstance(clients.rc, instance.guid, (current) => current.last_operation?.description?.includes('step 3 of 4') ?? false);
    expect(atStep3).toMatchObject({ state: 'pending_removal', last_operation: { state: 'in progress' } });
    expect(atStep3.last_operation?.description).toContain('delete the key registration');
    // Steps 1 and 2 are done: no secrets row, no bucket; the registration is still there.
    expect((await databaseRemnants(stack.databaseUrl, [instance.guid])).filter((remnant) => remnant.table.startsWith('sealbox_secrets.'))).toEqual([]);
    expect(await bucketListed(s3, instance.guid)).toBe(false);
    expect(await registeredCrns()).toContain(instance.crn);
    // While it runs: RECLAIMING can be neither reclaimed nor restored, the instance not deleted again.
    for (const actionName of ['reclaim', 'restore']) {
      expect(statusOf(await apiFailure(clients.rc.runReclamationAction({ id: reclamationId, actionName }))), actionName).toEqual({ status: 409, code: 'CONFLICT' });
    }
    expect(statusOf(await apiFailure(clients.rc.deleteResourceInstance({ id: instance.guid })))).toEqual({ status: 409, code: 'CONFLICT' });

    // Step 3 alternates between running (a try waiting for kms, under the process's lease) and
    // retrying (until the next scheduler run). Hold lifecycle's row while it is running, so the
    // process dies holding the lease with nothing able to change the row in between.
    rowLocker = new pg.Client({ connectionString: stack.databaseUrl });
    await rowLocker.connect();
    const heldRunning = await poll(
      async () => {
        await rowLocker?.query('BEGIN');
        const row = await rowLocker?.query<SagaRow>(`SELECT ${SAGA_COLUMNS} FROM sealbox_lifecycle.resource_instances WHERE guid = $1 FOR UPDATE`, [instance.guid]);
        if (row?.rows[0]?.saga_status !== 'running') await rowLocker?.query('ROLLBACK');
        return row?.rows[0];
      },
      (row) => row?.saga_status === 'running',
      { intervalMs: 100, maxPolls: 100 },
    );
    expect(heldRunning.value).toMatchObject({ saga: 'delete', saga_step: 'delete_registration', saga_status: 'running' });
    const deadLease = Number(heldRunning.value?.saga_lease_until);
    expect(deadLease).toBeGreaterThan(clock.nowMs());

    await stopStackApp(stack, 'lifecycle', 'SIGKILL');
    await rowLocker.query('ROLLBACK');
    await rowLocker.end();
    rowLocker = undefined;
    await locker.query('ROLLBACK');
    await locker.end();
    locker = undefined;
    await restartApp(stack, 'lifecycle');

    // The dead process's lease is honoured: the restarted one (scheduler at start, then every second) leaves it alone.
    await sleep(2_500);
    expect(await sagaRow(instance.guid)).toEqual({ saga: 'delete', saga_step: 'delete_registration', saga_status: 'running', saga_lease_until: String(deadLease) });
    expect((await getInstance(clients.rc, instance.guid)).state).toBe('pending_removal');

    // Once the lease has run out on lifecycle's clock, the restarted process takes the saga over at the recorded step.
    clock.advance(deadLease - clock.nowMs() + 1_000);

    const removed = await pollInstance(clients.rc, instance.guid, (current) => current.state === 'removed');
    expect(removed).toMatchObject({ state: 'removed', last_operation: { state: 'succeeded', description: 'Permanently deleted' } });
    expect((await reclamationsOf(clients.rc, instance.guid)).map((reclamation) => reclamation.state)).toEqual(['RECLAIMED']);
    await expectNothingLeft(instance);
  }, 120_000);

  it('without the authorization the registration step is blocked, with its reason and an event, until an authorization exists again', async () => {
    const { instance, reclamationId } = await instanceInReclamation('blocked');

    // The only authorization that lets this instance use the key goes away before the reclaim.
    expect((await clients.policies.deletePolicy({ policyId: accountPolicyId })).status).toBe(204);
    await clients.rc.runReclamationAction({ id: reclamationId, actionName: 'reclaim' });

    const blocked = await pollInstance(clients.rc, instance.guid, (current) => current.last_operation?.description?.includes('blocked') ?? false);
    expect(blocked.state).toBe('pending_removal');
    expect(blocked.last_operation?.description).toContain('Permanent delete blocked at step 3 of 4');
    expect(blocked.last_operation?.description).toContain(`no authorization lets secrets-manager instance ${instance.guid} read kms instance ${kmsGuid}`);
    expect(blocked.last_operation?.description).toContain('Create the authorization again');
    const events = await poll(
      async () => (await eventsNamed(stack.nats, 'lifecycle.saga.step-failed')).filter((data) => data['instanceId'] === instance.guid),
      (found) => found.length > 0,
      { intervalMs: 200, maxPolls: 25 },
    );
    expect(events.value).toEqual([expect.objectContaining({ saga: 'delete', step: 'delete_registration', reason: expect.stringContaining('Create the authorization again') })]);

    // The scheduler retries it every second: still blocked, one event for one reason.
    await sleep(2_500);
    const still = await getInstance(clients.rc, instance.guid);
    expect(still.state).toBe('pending_removal');
    expect(still.last_operation?.description).toContain('blocked');
    expect((await eventsNamed(stack.nats, 'lifecycle.saga.step-failed')).filter((data) => data['instanceId'] === instance.guid)).toHaveLength(1);
    expect(await registeredCrns()).toContain(instance.crn);

    // An authorization for this instance: the next scheduler run finishes the delete, and its last step removes that policy.
    expect((await clients.policies.createPolicy(keyAuthorization(session.accountId, kmsGuid, instance.guid))).status).toBe(201);
    const removed = await pollInstance(clients.rc, instance.guid, (current) => current.state === 'removed');
    expect(removed).toMatchObject({ state: 'removed', last_operation: { state: 'succeeded' } });
    expect((await reclamationsOf(clients.rc, instance.guid)).map((reclamation) => reclamation.state)).toEqual(['RECLAIMED']);
    await expectNothingLeft(instance);

    // Both instances gone: nothing registered on the key any more, so it can be deleted.
    expect(await registeredCrns()).toEqual([]);
    expect((await kp.deleteKey({ id: keyId, bluemixInstance: kmsGuid })).status).toBe(204);
  }, 120_000);
});
