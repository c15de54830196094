import { KmsWire } from '@sealbox/contracts';
import { IamAuthenticator } from 'ibm-cloud-sdk-core';
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessToken, bearer } from './harness/auth.js';
import { stackInfo } from './harness/context.js';
import { errorBody, request, type JsonResponse } from './harness/http.js';
import { adminSession, createAccessPolicy, createAccountOverNats, createApiKey, createServiceId, type AdminSession } from './harness/iam.js';
import { createKmsInstance, jsonBody, keyCreateBody, keyProtectClient, kpFailure, NatsCaller, statusAndCode } from './harness/kms.js';

/**
 * An HPCS-like (`hs-crypto`) instance over the distributed stack (kms on SoftHSM2): key operations are
 * refused until two DIFFERENT identities holding Manager on the instance each load a master key part
 * (`POST /kms/api/v2/instance/master_key/parts`, raw HTTP: not in the Key Protect client); then keys
 * work through the official 0.1.2 client; zeroizing the master key makes every ciphertext unopenable
 * and key operations are refused again, also after a new ceremony with other parts.
 */

const stack = stackInfo();
const gateway = stack.gatewayUrl;
const hopDeadlineMs = stack.rpcTimeoutMs + 2_000;
const tag = `hpcs-${stack.runId}`;

/** How libs/kms-plugins derives the verification pattern: HMAC-SHA256 keyed by the master key (never the key itself). */
const verificationPatternOf = (masterKey: Buffer) => createHmac('sha256', masterKey).update('sealbox-hpcs-verification').digest('hex');
const xor = (a: Buffer, b: Buffer) => Buffer.from(a.map((byte, index) => byte ^ (b[index] ?? 0)));

describe('an HPCS-like instance: the master key ceremony, keys under it, zeroize', () => {
  let nats: NatsCaller;
  let admin: AdminSession;
  let kp: ReturnType<typeof keyProtectClient>;
  let instanceId = '';
  /** Bearer tokens of two service IDs with Manager on the instance, and one with Writer. */
  let managerA = '';
  let managerB = '';
  let writer = '';

  beforeAll(async () => {
    nats = await NatsCaller.open(stack);
    const account = await createAccountOverNats(stack, `${tag}-account`);
    admin = await adminSession(stack, account.apikey);
    kp = keyProtectClient(gateway, new IamAuthenticator({ apikey: account.apikey, url: gateway }));
    const instance = await createKmsInstance(nats, admin.accountId, 'hs-crypto');
    expect(instance).toMatchObject({ serviceName: 'hs-crypto', provider: 'hpcs', masterKeyStatus: 'uninitialized' });
    instanceId = instance.instanceId;

    const identity = async (name: string, role: 'Manager' | 'Writer') => {
      const serviceId = await createServiceId(admin, `${tag}-${name}`);
      await createAccessPolicy(admin, serviceId.iam_id, role, { serviceName: 'hs-crypto', serviceInstance: instanceId });
      return accessToken(stack, (await createApiKey(admin, serviceId.iam_id, `${tag}-${name}`)).apikey);
    };
    managerA = await identity('manager-a', 'Manager');
    managerB = await identity('manager-b', 'Manager');
    writer = await identity('writer', 'Writer');
  });

  afterAll(async () => {
    await nats?.close();
  });

  const masterKeyUrl = () => `${gateway}/kms/api/v2/instance/master_key`;
  const headersOf = (token: string) => ({ ...bearer(token), 'bluemix-instance': instanceId });

  function loadPart(token: string, part: Buffer): Promise<JsonResponse<unknown>> {
    return request(`${masterKeyUrl()}/parts`, { method: 'POST', headers: headersOf(token), body: { part: part.toString('base64') }, deadlineMs: hopDeadlineMs });
  }

  async function masterKey(token = admin.token): Promise<KmsWire.MasterKeyStatus> {
    const response = await request(masterKeyUrl(), { headers: headersOf(token), deadlineMs: hopDeadlineMs });
    expect(response.status).toBe(200);
    return KmsWire.MasterKeyStatus.strict().parse(response.body);
  }

  function expectError(response: JsonResponse, status: number, code: string): void {
    expect({ status: response.status, code: errorBody(response).errors[0]?.code }).toEqual({ status, code });
  }

  const createKey = (name: string) => kp.createKey({ bluemixInstance: instanceId, body: keyCreateBody({ name: `${tag}-${name}` }) });

  /** Two managers load their parts; the status as the second load answers it. */
  async function ceremony(): Promise<{ status: KmsWire.MasterKeyStatus; parts: [Buffer, Buffer] }> {
    const parts: [Buffer, Buffer] = [randomBytes(32), randomBytes(32)];
    const first = await loadPart(managerA, parts[0]);
    expect(first.status).toBe(200);
    expect(KmsWire.MasterKeyStatus.parse(first.body)).toEqual({ status: 'pending', partsLoaded: 1, threshold: 2 });
    const second = await loadPart(managerB, parts[1]);
    expect(second.status).toBe(200);
    return { status: KmsWire.MasterKeyStatus.parse(second.body), parts };
  }

  let keyId = '';
  let ciphertext = '';
  let plaintext = '';
  const aad = ['hpcs', tag];

  it('refuses key operations with 409 INSTANCE_NOT_INITIALIZED until two different managers have loaded a part each; the same manager twice is refused', async () => {
    expect(await masterKey()).toEqual({ status: 'uninitialized', partsLoaded: 0, threshold: 2 });
    expect(statusAndCode(await kpFailure(createKey('too-early')))).toEqual({ status: 409, code: 'INSTANCE_NOT_INITIALIZED' });

    // Loading a part needs Manager: a Writer on the instance is refused.
    expectError(await loadPart(writer, randomBytes(32)), 403, 'FORBIDDEN');
    // A part is exactly 32 bytes.
    expectError(await loadPart(managerA, randomBytes(16)), 400, 'INVALID_KEY_MATERIAL');
    expect((await masterKey()).partsLoaded).toBe(0);

    const partA = randomBytes(32);
    const first = await loadPart(managerA, partA);
    expect(first.status).toBe(200);
    expect(KmsWire.MasterKeyStatus.parse(first.body)).toEqual({ status: 'pending', partsLoaded: 1, threshold: 2 });
    expect(statusAndCode(await kpFailure(createKey('one-part')))).toEqual({ status: 409, code: 'INSTANCE_NOT_INITIALIZED' });
    // Reading is not a key operation: listing works (and finds nothing).
    const listed = await kp.getKeys({ bluemixInstance: instanceId });
    expect(listed.status).toBe(200);
    expect(KmsWire.KeyCollection.parse(listed.result).resources).toEqual([]);

    // The same identity again, even with another part: refused, and it does not count.
    expectError(await loadPart(managerA, randomBytes(32)), 409, 'CONFLICT');
    expect(await masterKey()).toEqual({ status: 'pending', partsLoaded: 1, threshold: 2 });
    expect(statusAndCode(await kpFailure(createKey('same-identity')))).toEqual({ status: 409, code: 'INSTANCE_NOT_INITIALIZED' });

    const partB = randomBytes(32);
    const second = await loadPart(managerB, partB);
    expect(second.status).toBe(200);
    const active = KmsWire.MasterKeyStatus.parse(second.body);
    expect(active).toMatchObject({ status: 'active', partsLoaded: 2, threshold: 2 });
    // A keyed hash of the master key, which is the XOR of the two parts; never the key itself.
    const master = xor(partA, partB);
    expect(active.verificationPattern).toBe(verificationPatternOf(master));
    expect(active.verificationPattern).not.toContain(master.toString('hex'));

    // Any identity with read access sees the same status; the parts are gone, a third one is refused.
    expect(await masterKey(writer)).toEqual(active);
    expectError(await loadPart(admin.token, randomBytes(32)), 409, 'CONFLICT');
  });

  it('creates keys, wraps and unwraps once the master key is active', async () => {
    const created = await createKey('under-master');
    expect(created.status).toBe(201);
    const key = KmsWire.KeyCollection.parse(created.result).resources[0];
    expect(key).toMatchObject({ state: 1, extractable: false });
    keyId = key?.id ?? '';
    expect(key?.crn).toContain(instanceId);

    const wrapped = await kp.wrapKey({ id: keyId, bluemixInstance: instanceId, keyActionWrapBody: jsonBody({ aad }) });
    expect(wrapped.status).toBe(200);
    const body = KmsWire.WrapResponse.parse(wrapped.result);
    expect(Buffer.from(body.plaintext ?? '', 'base64')).toHaveLength(32);
    ciphertext = body.ciphertext;
    plaintext = body.plaintext ?? '';

    const unwrapped = await kp.unwrapKey({ id: keyId, bluemixInstance: instanceId, keyActionUnwrapBody: jsonBody({ ciphertext, aad }) });
    expect(unwrapped.status).toBe(200);
    expect(KmsWire.UnwrapResponse.parse(unwrapped.result).plaintext).toBe(plaintext);
    const wrongAad = await kpFailure(kp.unwrapKey({ id: keyId, bluemixInstance: instanceId, keyActionUnwrapBody: jsonBody({ ciphertext, aad: ['hpcs'] }) }));
    expect(statusAndCode(wrongAad)).toEqual({ status: 422, code: 'INTEGRITY_FAILED' });
  });

  it('zeroizes the master key: an earlier ciphertext no longer unwraps and key operations are refused, also after a new ceremony with other parts', async () => {
    expect(keyId).not.toBe('');
    const before = (await masterKey()).verificationPattern;

    // Zeroizing needs Manager too.
    const byWriter = await request(masterKeyUrl(), { method: 'DELETE', headers: headersOf(writer), deadlineMs: hopDeadlineMs });
    expectError(byWriter, 403, 'FORBIDDEN');
    const zeroized = await request(masterKeyUrl(), { method: 'DELETE', headers: headersOf(managerA), deadlineMs: hopDeadlineMs });
    expect(zeroized.status).toBe(200);
    expect(KmsWire.MasterKeyStatus.parse(zeroized.body)).toEqual({ status: 'uninitialized', partsLoaded: 0, threshold: 2 });
    expect(await masterKey()).toEqual({ status: 'uninitialized', partsLoaded: 0, threshold: 2 });

    const unwrapOld = () => kpFailure(kp.unwrapKey({ id: keyId, bluemixInstance: instanceId, keyActionUnwrapBody: jsonBody({ ciphertext, aad }) }));
    expect(statusAndCode(await unwrapOld())).toEqual({ status: 409, code: 'INSTANCE_NOT_INITIALIZED' });
    const wrap = await kpFailure(kp.wrapKey({ id: keyId, bluemixInstance: instanceId, keyActionWrapBody: jsonBody({}) }));
    expect(statusAndCode(wrap)).toEqual({ status: 409, code: 'INSTANCE_NOT_INITIALIZED' });
    expect(statusAndCode(await kpFailure(kp.rotateKey({ id: keyId, bluemixInstance: instanceId })))).toEqual({ status: 409, code: 'INSTANCE_NOT_INITIALIZED' });
    expect(statusAndCode(await kpFailure(createKey('after-zeroize')))).toEqual({ status: 409, code: 'INSTANCE_NOT_INITIALIZED' });

    // A new ceremony makes a new master key: the old keys' material was under the destroyed one.
    const { status, parts } = await ceremony();
    expect(status.status).toBe('active');
    expect(status.verificationPattern).toBe(verificationPatternOf(xor(...parts)));
    expect(status.verificationPattern).not.toBe(before);
    const failure = await unwrapOld();
    expect(statusAndCode(failure)).toEqual({ status: 422, code: 'INTEGRITY_FAILED' });
    const oldWrap = await kpFailure(kp.wrapKey({ id: keyId, bluemixInstance: instanceId, keyActionWrapBody: jsonBody({}) }));
    expect(statusAndCode(oldWrap)).toEqual({ status: 422, code: 'INTEGRITY_FAILED' });

    // Keys made under the new master key work.
    const fresh = KmsWire.KeyCollection.parse((await createKey('new-master')).result).resources[0];
    const wrapped = KmsWire.WrapResponse.parse((await kp.wrapKey({ id: fresh?.id ?? '', bluemixInstance: instanceId })).result);
    const unwrapped = await kp.unwrapKey({ id: fresh?.id ?? '', bluemixInstance: instanceId, keyActionUnwrapBody: jsonBody({ ciphertext: wrapped.ciphertext }) });
    expect(KmsWire.UnwrapResponse.parse(unwrapped.result).plaintext).toBe(wrapped.plaintext);
  });

  it('a Key Protect-like instance has no master key: not_applicable, and loading a part is 409 CONFLICT', async () => {
    const kmsInstance = (await createKmsInstance(nats, admin.accountId, 'kms')).instanceId;
    const headers = { ...bearer(admin.token), 'bluemix-instance': kmsInstance };
    const status = await request(masterKeyUrl(), { headers, deadlineMs: hopDeadlineMs });
    expect(status.status).toBe(200);
    expect(KmsWire.MasterKeyStatus.parse(status.body)).toEqual({ status: 'not_applicable' });
    const load = await request(`${masterKeyUrl()}/parts`, { method: 'POST', headers, body: { part: randomBytes(32).toString('base64') }, deadlineMs: hopDeadlineMs });
    expectError(load, 409, 'CONFLICT');
  });
});
