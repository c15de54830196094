import { KmsWire } from '@sealbox/contracts';
import { IamAuthenticator } from 'ibm-cloud-sdk-core';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessToken, bearer } from './harness/auth.js';
import { stackInfo } from './harness/context.js';
import { errorBody, request } from './harness/http.js';
import { adminSession, createAccessPolicy, createAccountOverNats, createApiKey, createServiceId, type AdminSession } from './harness/iam.js';
import {
  createKmsInstance,
  flipBit,
  jsonBody,
  keyCreateBody,
  keyPolicyBody,
  keyProtectClient,
  kpFailure,
  NatsCaller,
  readStream,
  secureImport,
  statusAndCode,
} from './harness/kms.js';

/**
 * Key Protect through the official `@ibm-cloud/ibm-key-protect@0.1.2` client, unchanged: only its
 * serviceUrl points at the gateway's `/kms`, with IamAuthenticator (core 5) exchanging API keys at
 * the gateway. The instance travels as `bluemixInstance` on every call. Bodies are Buffers of JSON,
 * as the client's types ask. Errors are read from `err.status` and the IBM error body in `err.body`.
 * Only purge is raw HTTP: 0.1.2 has no purgeKey.
 */

const stack = stackInfo();
const gateway = stack.gatewayUrl;
const hopDeadlineMs = stack.rpcTimeoutMs + 2_000;
const tag = `kp-${stack.runId}`;

const b64 = (bytes: Buffer) => bytes.toString('base64');
const KEY_STATE_ACTIVE = 1;
const KEY_STATE_SUSPENDED = 2;
const KEY_STATE_DESTROYED = 5;

describe('Key Protect through the official 0.1.2 client, against the distributed stack', () => {
  let nats: NatsCaller;
  let admin: AdminSession;
  let kp: ReturnType<typeof keyProtectClient>;
  /** A service ID holding Manager on the instance: the second identity of dual authorization. */
  let manager: ReturnType<typeof keyProtectClient>;
  /** A service ID of the same account with no policy at all. */
  let outsider: ReturnType<typeof keyProtectClient>;
  let instanceId = '';

  beforeAll(async () => {
    nats = await NatsCaller.open(stack);
    const account = await createAccountOverNats(stack, `${tag}-account`);
    admin = await adminSession(stack, account.apikey);
    kp = keyProtectClient(gateway, new IamAuthenticator({ apikey: account.apikey, url: gateway }));
    instanceId = (await createKmsInstance(nats, admin.accountId, 'kms')).instanceId;

    const managerId = await createServiceId(admin, `${tag}-manager`);
    await createAccessPolicy(admin, managerId.iam_id, 'Manager', { serviceName: 'kms', serviceInstance: instanceId });
    const managerKey = await createApiKey(admin, managerId.iam_id, `${tag}-manager`);
    manager = keyProtectClient(gateway, new IamAuthenticator({ apikey: managerKey.apikey, url: gateway }));

    const outsiderId = await createServiceId(admin, `${tag}-outsider`);
    const outsiderKey = await createApiKey(admin, outsiderId.iam_id, `${tag}-outsider`);
    outsider = keyProtectClient(gateway, new IamAuthenticator({ apikey: outsiderKey.apikey, url: gateway }));
  });

  afterAll(async () => {
    await nats?.close();
  });

  const bluemixInstance = () => instanceId;

  async function createRootKey(name: string, extra: Record<string, unknown> = {}): Promise<KmsWire.Key> {
    const response = await kp.createKey({ bluemixInstance: bluemixInstance(), body: keyCreateBody({ name: `${tag}-${name}`, ...extra }) });
    expect(response.status).toBe(201);
    expect(String(response.headers['content-type'])).toMatch(/^application\/vnd\.ibm\.kms\.key\+json/);
    const created = KmsWire.KeyCollection.parse(response.result);
    expect(created.metadata).toMatchObject({ collectionType: KmsWire.KEY_COLLECTION_TYPE, collectionTotal: 1 });
    const key = created.resources[0];
    if (!key) throw new Error('createKey answered no key');
    return key;
  }

  async function wrap(id: string, body: { plaintext?: string; aad?: string[] } = {}, client = kp) {
    const response = await client.wrapKey({ id, bluemixInstance: bluemixInstance(), keyActionWrapBody: jsonBody(body) });
    expect(response.status).toBe(200);
    return KmsWire.WrapResponse.parse(response.result);
  }

  async function unwrap(id: string, ciphertext: string, aad?: string[]) {
    const response = await kp.unwrapKey({
      id,
      bluemixInstance: bluemixInstance(),
      keyActionUnwrapBody: jsonBody({ ciphertext, ...(aad ? { aad } : {}) }),
    });
    expect(response.status).toBe(200);
    return KmsWire.UnwrapResponse.parse(response.result);
  }

  const unwrapFailure = (id: string, ciphertext: string, aad?: string[]) =>
    kpFailure(kp.unwrapKey({ id, bluemixInstance: bluemixInstance(), keyActionUnwrapBody: jsonBody({ ciphertext, ...(aad ? { aad } : {}) }) }));

  async function getKey(id: string): Promise<KmsWire.Key> {
    const response = await kp.getKey({ id, bluemixInstance: bluemixInstance() });
    expect(response.status).toBe(200);
    const key = KmsWire.KeyCollection.parse(response.result).resources[0];
    if (!key) throw new Error('getKey answered no key');
    return key;
  }

  it('creates a generated root key; getKeys lists it, HEAD counts it (Key-Total), getKey finds it by id and by alias', async () => {
    const alias = `${tag}-alias`;
    const key = await createRootKey('generated', { description: 'made by kms-sdk.e2e', aliases: [alias] });
    expect(key).toMatchObject({
      name: `${tag}-generated`,
      state: KEY_STATE_ACTIVE,
      extractable: false,
      imported: false,
      algorithmType: 'AES',
      aliases: [alias],
      deleted: false,
      dualAuthDelete: { enabled: false },
    });
    expect(key.crn).toContain(instanceId);
    expect(key.crn).toContain(key.id);
    expect(key.createdBy).toMatch(/^IBMid-/);

    const listed = await kp.getKeys({ bluemixInstance: bluemixInstance(), limit: 200, state: [KEY_STATE_ACTIVE, KEY_STATE_SUSPENDED] });
    expect(listed.status).toBe(200);
    const keys = KmsWire.KeyCollection.parse(listed.result);
    expect(keys.resources.map((item) => item.id)).toContain(key.id);
    expect(keys.metadata.collectionTotal).toBe(keys.resources.length);

    const head = await kp.getKeyCollectionMetadata({ bluemixInstance: bluemixInstance(), state: [KEY_STATE_ACTIVE, KEY_STATE_SUSPENDED] });
    expect(head.status).toBe(200);
    expect(Number(head.headers['key-total'])).toBe(keys.resources.length);
    const deletedOnly = await kp.getKeyCollectionMetadata({ bluemixInstance: bluemixInstance(), state: [KEY_STATE_DESTROYED] });
    expect(Number(deletedOnly.headers['key-total'])).toBe(
      KmsWire.KeyCollection.parse((await kp.getKeys({ bluemixInstance: bluemixInstance(), state: [KEY_STATE_DESTROYED] })).result).resources.length,
    );

    expect(await getKey(key.id)).toMatchObject({ id: key.id, keyVersion: key.keyVersion });
    expect((await getKey(alias)).id).toBe(key.id);
    const metadata = await kp.getKeyMetadata({ id: key.id, bluemixInstance: bluemixInstance() });
    expect(KmsWire.KeyCollection.parse(metadata.result).resources[0]?.id).toBe(key.id);
  });

  it('imports a root key from plain key material (base64 of 32 bytes) and wraps and unwraps with it', async () => {
    const key = await createRootKey('imported-plain', { payload: b64(randomBytes(32)) });
    expect(key).toMatchObject({ imported: true, state: KEY_STATE_ACTIVE, extractable: false });

    const dek = randomBytes(32);
    const wrapped = await wrap(key.id, { plaintext: b64(dek) });
    expect(wrapped.plaintext).toBeUndefined();
    expect(wrapped.keyVersion.id).toBe(key.keyVersion.id);
    expect((await unwrap(key.id, wrapped.ciphertext)).plaintext).toBe(b64(dek));

    // Material of the wrong size is refused with its own code.
    const short = await kpFailure(kp.createKey({ bluemixInstance: bluemixInstance(), body: keyCreateBody({ name: `${tag}-short`, payload: b64(randomBytes(16)) }) }));
    expect(statusAndCode(short)).toEqual({ status: 400, code: 'INVALID_KEY_MATERIAL' });
  });

  it('imports a root key with an import token: RSA-OAEP-256 payload under the token key, AES-GCM-encrypted nonce under the material', async () => {
    const created = await kp.postImportToken({ bluemixInstance: bluemixInstance(), expiration: 600, maxAllowedRetrievals: 1 });
    expect(created.status).toBe(200);
    expect(KmsWire.ImportTokenMetadata.parse(created.result)).toMatchObject({ expiration: 600, maxAllowedRetrievals: 1, remainingRetrievals: 1 });

    const retrieved = await kp.getImportToken({ bluemixInstance: bluemixInstance() });
    expect(retrieved.status).toBe(200);
    const token = KmsWire.ImportToken.parse(retrieved.result);
    expect(token.remainingRetrievals).toBe(0);
    expect(Buffer.from(token.payload, 'base64').toString('utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(Buffer.from(token.nonce, 'base64')).toHaveLength(16);
    // One retrieval allowed: the second is refused, the token itself stays usable for the import.
    expect(statusAndCode(await kpFailure(kp.getImportToken({ bluemixInstance: bluemixInstance() })))).toEqual({
      status: 409,
      code: 'IMPORT_TOKEN_EXHAUSTED',
    });

    const material = randomBytes(32);
    // A nonce encrypted under other material does not prove possession: refused, the token is not used up.
    const forged = secureImport(material, token, randomBytes(32));
    const refused = await kpFailure(kp.createKey({ bluemixInstance: bluemixInstance(), body: keyCreateBody({ name: `${tag}-forged`, ...forged }) }));
    expect(statusAndCode(refused)).toEqual({ status: 400, code: 'INVALID_KEY_MATERIAL' });

    const key = await createRootKey('imported-token', secureImport(material, token));
    expect(key).toMatchObject({ imported: true, state: KEY_STATE_ACTIVE });
    const wrapped = await wrap(key.id, { aad: ['token-import'] });
    expect((await unwrap(key.id, wrapped.ciphertext, ['token-import'])).plaintext).toBe(wrapped.plaintext);

    // A token serves one import: it is gone now.
    expect(statusAndCode(await kpFailure(kp.getImportToken({ bluemixInstance: bluemixInstance() })))).toEqual({ status: 404, code: 'NOT_FOUND' });
  });

  it('wraps with aad and no plaintext (a generated 256-bit DEK comes back), unwraps only with the same aad, and refuses every flipped bit with 422 INTEGRITY_FAILED', async () => {
    const key = await createRootKey('wrapping');
    const aad = ['secrets-manager', `instance-${tag}`];

    const wrapped = await wrap(key.id, { aad });
    const dek = Buffer.from(wrapped.plaintext ?? '', 'base64');
    expect(dek).toHaveLength(32);
    expect(wrapped.keyVersion.id).toBe(key.keyVersion.id);
    const unwrapped = await unwrap(key.id, wrapped.ciphertext, aad);
    expect(unwrapped.plaintext).toBe(b64(dek));
    expect(unwrapped.keyVersion.id).toBe(key.keyVersion.id);
    expect(unwrapped.rewrappedKeyVersion).toBeUndefined();

    // Wrap with no body at all: the client sends nothing, the service generates.
    const bare = await kp.wrapKey({ id: key.id, bluemixInstance: bluemixInstance() });
    expect(Buffer.from(KmsWire.WrapResponse.parse(bare.result).plaintext ?? '', 'base64')).toHaveLength(32);

    for (const wrong of [['secrets-manager'], [...aad, 'extra'], [aad[1] ?? '', aad[0] ?? ''], undefined]) {
      expect(statusAndCode(await unwrapFailure(key.id, wrapped.ciphertext, wrong)), `aad ${JSON.stringify(wrong)}`).toEqual({
        status: 422,
        code: 'INTEGRITY_FAILED',
      });
    }
    // The ciphertext of one key does not open under another.
    const other = await createRootKey('wrapping-other');
    expect(statusAndCode(await unwrapFailure(other.id, wrapped.ciphertext, aad))).toEqual({ status: 422, code: 'INTEGRITY_FAILED' });

    // One bit flipped in every byte (format, key version id, provider nonce, ciphertext, tag).
    const length = Buffer.from(wrapped.ciphertext, 'base64').length;
    const outcomes = new Map<string, number>();
    for (let index = 0; index < length; index++) {
      const failure = statusAndCode(await unwrapFailure(key.id, flipBit(wrapped.ciphertext, index), aad));
      outcomes.set(`${failure.status} ${failure.code}`, (outcomes.get(`${failure.status} ${failure.code}`) ?? 0) + 1);
    }
    expect(Object.fromEntries(outcomes)).toEqual({ '422 INTEGRITY_FAILED': length });

    const malformed = await unwrapFailure(key.id, 'not base64!', aad);
    expect(statusAndCode(malformed)).toEqual({ status: 400, code: 'INVALID_CIPHERTEXT' });
  });

  it('rotates a key; a ciphertext made before the rotation unwraps with rewrappedKeyVersion and the rewrapped ciphertext', async () => {
    const key = await createRootKey('rotating');
    const before = await wrap(key.id, { aad: ['rotation'] });

    const rotated = await kp.rotateKey({ id: key.id, bluemixInstance: bluemixInstance() });
    expect(rotated.status).toBe(204);
    const current = await getKey(key.id);
    expect(current.keyVersion.id).not.toBe(key.keyVersion.id);
    expect(current.lastRotateDate).toBeDefined();
    const versions = await kp.getKeyVersions({ id: key.id, bluemixInstance: bluemixInstance() });
    expect(KmsWire.KeyVersionCollection.parse(versions.result).resources.map((version) => version.id).sort()).toEqual(
      [key.keyVersion.id, current.keyVersion.id].sort(),
    );

    const old = await unwrap(key.id, before.ciphertext, ['rotation']);
    expect(old.plaintext).toBe(before.plaintext);
    expect(old.keyVersion.id).toBe(key.keyVersion.id);
    expect(old.rewrappedKeyVersion?.id).toBe(current.keyVersion.id);
    expect(old.ciphertext).toBeDefined();
    expect(old.ciphertext).not.toBe(before.ciphertext);

    const renewed = await unwrap(key.id, old.ciphertext ?? '', ['rotation']);
    expect(renewed).toMatchObject({ plaintext: before.plaintext, keyVersion: { id: current.keyVersion.id } });
    expect(renewed.rewrappedKeyVersion).toBeUndefined();
    // New wraps use the newest version.
    expect((await wrap(key.id)).keyVersion.id).toBe(current.keyVersion.id);
  });

  it('rotates an imported key only with new key material', async () => {
    const material = randomBytes(32);
    const key = await createRootKey('imported-rotating', { payload: b64(material) });
    const before = await wrap(key.id);

    const again = await kpFailure(kp.rotateKey({ id: key.id, bluemixInstance: bluemixInstance(), keyActionRotateBody: jsonBody({ payload: b64(material) }) }));
    expect(statusAndCode(again)).toEqual({ status: 400, code: 'INVALID_KEY_MATERIAL' });
    const none = await kpFailure(kp.rotateKey({ id: key.id, bluemixInstance: bluemixInstance() }));
    expect(statusAndCode(none)).toEqual({ status: 400, code: 'INVALID_KEY_MATERIAL' });

    const rotated = await kp.rotateKey({ id: key.id, bluemixInstance: bluemixInstance(), keyActionRotateBody: jsonBody({ payload: b64(randomBytes(32)) }) });
    expect(rotated.status).toBe(204);
    const old = await unwrap(key.id, before.ciphertext);
    expect(old.plaintext).toBe(before.plaintext);
    expect(old.rewrappedKeyVersion?.id).toBe((await getKey(key.id)).keyVersion.id);
  });

  it('disables a key (state 2): wrap and unwrap are refused with 409 KEY_DISABLED; enabled again, both work', async () => {
    const key = await createRootKey('disabling');
    const before = await wrap(key.id);

    expect((await kp.disableKey({ id: key.id, bluemixInstance: bluemixInstance() })).status).toBe(204);
    expect(await getKey(key.id)).toMatchObject({ state: KEY_STATE_SUSPENDED, nonactiveStateReason: 2 });
    const refused = await kpFailure(kp.wrapKey({ id: key.id, bluemixInstance: bluemixInstance(), keyActionWrapBody: jsonBody({}) }));
    expect(statusAndCode(refused)).toEqual({ status: 409, code: 'KEY_DISABLED' });
    expect(statusAndCode(await unwrapFailure(key.id, before.ciphertext))).toEqual({ status: 409, code: 'KEY_DISABLED' });
    const rotate = await kpFailure(kp.rotateKey({ id: key.id, bluemixInstance: bluemixInstance() }));
    expect(statusAndCode(rotate)).toEqual({ status: 409, code: 'KEY_DISABLED' });

    expect((await kp.enableKey({ id: key.id, bluemixInstance: bluemixInstance() })).status).toBe(204);
    expect((await getKey(key.id)).state).toBe(KEY_STATE_ACTIVE);
    const after = await wrap(key.id);
    expect((await unwrap(key.id, after.ciphertext)).plaintext).toBe(after.plaintext);
    expect((await unwrap(key.id, before.ciphertext)).plaintext).toBe(before.plaintext);
  });

  it('dual authorization delete: the deleting identity is refused until a SECOND identity (a service ID with Manager) sets the key for deletion', async () => {
    const key = await createRootKey('dual-auth');
    const policy = await kp.putPolicy({
      id: key.id,
      bluemixInstance: bluemixInstance(),
      policy: 'dualAuthDelete',
      setKeyPoliciesOneOf: keyPolicyBody({ dualAuthDelete: { enabled: true } }),
    });
    expect(policy.status).toBe(200);
    const read = await kp.getPolicy({ id: key.id, bluemixInstance: bluemixInstance(), policy: 'dualAuthDelete' });
    expect(KmsWire.KeyPolicyCollection.parse(read.result).resources[0]?.dualAuthDelete).toEqual({ enabled: true });
    expect((await getKey(key.id)).dualAuthDelete.enabled).toBe(true);

    const deleteByAdmin = () => kp.deleteKey({ id: key.id, bluemixInstance: bluemixInstance(), prefer: 'return=representation' });
    expect(statusAndCode(await kpFailure(deleteByAdmin()))).toEqual({ status: 409, code: 'DUAL_AUTH_REQUIRED' });

    // The same identity authorizing its own deletion does not count.
    expect((await kp.setKeyForDeletion({ id: key.id, bluemixInstance: bluemixInstance() })).status).toBe(204);
    expect(statusAndCode(await kpFailure(deleteByAdmin()))).toEqual({ status: 409, code: 'DUAL_AUTH_REQUIRED' });
    expect((await kp.unsetKeyForDeletion({ id: key.id, bluemixInstance: bluemixInstance() })).status).toBe(204);
    expect(statusAndCode(await kpFailure(deleteByAdmin()))).toEqual({ status: 409, code: 'DUAL_AUTH_REQUIRED' });

    // The second identity, with its own API key and authenticator.
    expect((await manager.setKeyForDeletion({ id: key.id, bluemixInstance: bluemixInstance() })).status).toBe(204);
    expect((await getKey(key.id)).dualAuthDelete.keySetForDeletion).toBe(true);
    const deleted = await deleteByAdmin();
    expect(deleted.status).toBe(200);
    expect(KmsWire.KeyCollection.parse(deleted.result).resources[0]).toMatchObject({ id: key.id, state: KEY_STATE_DESTROYED, deleted: true });
    expect(statusAndCode(await kpFailure(kp.getKey({ id: key.id, bluemixInstance: bluemixInstance() })))).toEqual({ status: 410, code: 'KEY_DESTROYED' });
  });

  it('deletes (204) and restores (201, the body read from the stream the client returns); purge is refused too early with 409 REQ_TOO_EARLY_ERR', async () => {
    const key = await createRootKey('restoring');
    const before = await wrap(key.id, { aad: ['restore'] });

    const deleted = await kp.deleteKey({ id: key.id, bluemixInstance: bluemixInstance() });
    expect(deleted.status).toBe(204);
    const metadata = KmsWire.KeyCollection.parse((await kp.getKeyMetadata({ id: key.id, bluemixInstance: bluemixInstance() })).result).resources[0];
    expect(metadata).toMatchObject({ state: KEY_STATE_DESTROYED, deleted: true, restoreAllowed: true, purgeAllowed: false });
    expect(statusAndCode(await unwrapFailure(key.id, before.ciphertext, ['restore']))).toEqual({ status: 410, code: 'KEY_DESTROYED' });

    const restored = await kp.restoreKey({ id: key.id, bluemixInstance: bluemixInstance() });
    expect(restored.status).toBe(201);
    const body = KmsWire.KeyCollection.parse(JSON.parse(await readStream(restored.result)));
    expect(body.resources[0]).toMatchObject({ id: key.id, state: KEY_STATE_ACTIVE, deleted: false });
    expect((await unwrap(key.id, before.ciphertext, ['restore'])).plaintext).toBe(before.plaintext);

    const purge = () =>
      request(`${gateway}/kms/api/v2/keys/${key.id}/purge`, {
        method: 'DELETE',
        headers: { ...bearer(admin.token), 'bluemix-instance': bluemixInstance() },
        deadlineMs: hopDeadlineMs,
      });
    const notDeleted = await purge();
    expect(notDeleted.status).toBe(409);
    expect(errorBody(notDeleted).errors[0]?.code).toBe('CONFLICT');

    expect((await kp.deleteKey({ id: key.id, bluemixInstance: bluemixInstance() })).status).toBe(204);
    const early = await purge();
    expect(early.status).toBe(409);
    expect(errorBody(early).errors[0]?.code).toBe('REQ_TOO_EARLY_ERR');
    // Still there, still restorable.
    const after = KmsWire.KeyCollection.parse((await kp.getKeyMetadata({ id: key.id, bluemixInstance: bluemixInstance() })).result).resources[0];
    expect(after).toMatchObject({ state: KEY_STATE_DESTROYED, restoreAllowed: true });
  });

  it('restores an imported key only with its key material', async () => {
    const material = randomBytes(32);
    const key = await createRootKey('imported-restoring', { payload: b64(material) });
    expect((await kp.deleteKey({ id: key.id, bluemixInstance: bluemixInstance() })).status).toBe(204);

    const without = await kpFailure(kp.restoreKey({ id: key.id, bluemixInstance: bluemixInstance() }));
    expect(statusAndCode(without)).toEqual({ status: 400, code: 'INVALID_KEY_MATERIAL' });
    const other = await kpFailure(kp.restoreKey({ id: key.id, bluemixInstance: bluemixInstance(), keyRestoreBody: jsonBody({ payload: b64(randomBytes(32)) }) }));
    expect(statusAndCode(other)).toEqual({ status: 400, code: 'INVALID_KEY_MATERIAL' });

    const restored = await kp.restoreKey({ id: key.id, bluemixInstance: bluemixInstance(), keyRestoreBody: jsonBody({ payload: b64(material) }) });
    expect(restored.status).toBe(201);
    expect(KmsWire.KeyCollection.parse(JSON.parse(await readStream(restored.result))).resources[0]).toMatchObject({ id: key.id, state: KEY_STATE_ACTIVE });
  });

  it("answers an unknown or another account's Bluemix-Instance exactly as no access: 404 NOT_FOUND on key routes, 403 FORBIDDEN on instance routes", async () => {
    const key = await createRootKey('tenancy');
    const ciphertext = (await wrap(key.id)).ciphertext;

    // Another account with its own instance and key.
    const foreignAccount = await createAccountOverNats(stack, `${tag}-foreign`);
    const foreignAdmin = await adminSession(stack, foreignAccount.apikey);
    const foreign = keyProtectClient(gateway, new IamAuthenticator({ apikey: foreignAccount.apikey, url: gateway }));
    const foreignInstance = (await createKmsInstance(nats, foreignAdmin.accountId, 'kms')).instanceId;
    const foreignKey = KmsWire.KeyCollection.parse(
      (await foreign.createKey({ bluemixInstance: foreignInstance, body: keyCreateBody({ name: `${tag}-foreign` }) })).result,
    ).resources[0];
    if (!foreignKey) throw new Error('no foreign key');

    type Client = ReturnType<typeof keyProtectClient>;
    const keyRoutes = (client: Client, instance: string, id: string) => ({
      getKey: () => client.getKey({ id, bluemixInstance: instance }),
      wrap: () => client.wrapKey({ id, bluemixInstance: instance, keyActionWrapBody: jsonBody({}) }),
      unwrap: () => client.unwrapKey({ id, bluemixInstance: instance, keyActionUnwrapBody: jsonBody({ ciphertext }) }),
      disable: () => client.disableKey({ id, bluemixInstance: instance }),
      delete: () => client.deleteKey({ id, bluemixInstance: instance }),
    });
    const instanceRoutes = (client: Client, instance: string) => ({
      getKeys: () => client.getKeys({ bluemixInstance: instance }),
      createKey: () => client.createKey({ bluemixInstance: instance, body: keyCreateBody({ name: `${tag}-intruder` }) }),
      importToken: () => client.postImportToken({ bluemixInstance: instance }),
    });

    const cases: Array<[string, Client, string, string]> = [
      ['no access (a service ID of the account without a policy)', outsider, instanceId, key.id],
      ['an unknown instance', kp, randomUUID(), key.id],
      ["another account's instance and key", kp, foreignInstance, foreignKey.id],
      ["another account's identity on this instance", foreign, instanceId, key.id],
    ];
    const denials = new Map<string, string>();
    for (const [label, client, instance, id] of cases) {
      for (const [route, call] of Object.entries(keyRoutes(client, instance, id))) {
        const failure = await kpFailure(call());
        expect(statusAndCode(failure), `${label}: ${route}`).toEqual({ status: 404, code: 'NOT_FOUND' });
        denials.set(`key ${failure.message}`, label);
      }
      for (const [route, call] of Object.entries(instanceRoutes(client, instance))) {
        const failure = await kpFailure(call());
        expect(statusAndCode(failure), `${label}: ${route}`).toEqual({ status: 403, code: 'FORBIDDEN' });
        denials.set(`instance ${failure.message}`, label);
      }
      // HEAD answers carry no body (RFC 9110), so only the status can say it.
      const count = await kpFailure(client.getKeyCollectionMetadata({ bluemixInstance: instance }));
      expect(count.status, `${label}: HEAD keys`).toBe(403);
    }
    // One message per kind of route, whoever asked and whatever the instance: nothing tells them apart.
    expect([...denials.keys()]).toHaveLength(2);

    // The keys are untouched and still work for their owners.
    expect((await getKey(key.id)).state).toBe(KEY_STATE_ACTIVE);
    const foreignStill = await foreign.getKey({ id: foreignKey.id, bluemixInstance: foreignInstance });
    expect(KmsWire.KeyCollection.parse(foreignStill.result).resources[0]?.state).toBe(KEY_STATE_ACTIVE);
    // A bearer of the right account with an instance header missing is a validation error, not a denial.
    const token = await accessToken(stack, foreignAccount.apikey);
    const missing = await request(`${gateway}/kms/api/v2/keys`, { headers: bearer(token), deadlineMs: hopDeadlineMs });
    expect(missing.status).toBe(400);
    expect(errorBody(missing).errors[0]?.code).toBe('VALIDATION_FAILED');
  });
});
