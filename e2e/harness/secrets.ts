import { KmsWire, roleCrn } from '@sealbox/contracts';
import { SecretsManagerClient, SecretsManagerError } from '@sealbox/sm-client';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bearer } from './auth.js';
import { request } from './http.js';
import type { AdminSession } from './iam.js';
import { createKmsInstance, keyCreateBody, type NatsCaller } from './kms.js';
import type { StackInfo } from './stack.js';

/**
 * Secrets Manager instances for the secrets e2e tests, provisioned the way lifecycle will do it: a
 * Key Protect instance with a root key (gateway), the IAM authorization from the Secrets Manager
 * instance to that kms instance (gateway, `/v1/policies`), the instance's bucket (`storage.bucket.create`)
 * and the registry entry (`secrets.instance.activate`), then the project's SM v2 client on the gateway.
 */

export interface SecretsInstance {
  readonly accountId: string;
  readonly guid: string;
  readonly crn: string;
  readonly kms: { readonly instanceId: string; readonly keyId: string };
  /** The admin's SM v2 client on this instance. */
  readonly sm: SecretsManagerClient;
}

export function smClient(stack: Pick<StackInfo, 'gatewayUrl' | 'rpcTimeoutMs'>, token: string, instanceGuid: string): SecretsManagerClient {
  return new SecretsManagerClient({ serviceUrl: stack.gatewayUrl, instanceId: instanceGuid, bearerToken: token, timeoutMs: stack.rpcTimeoutMs + 10_000 });
}

/** A root key of a kms instance of the admin's account, created through the gateway. */
async function createRootKey(session: AdminSession, kmsInstanceId: string, name: string): Promise<string> {
  const created = await request(`${session.stack.gatewayUrl}/kms/api/v2/keys`, {
    method: 'POST',
    headers: { ...bearer(session.token), 'bluemix-instance': kmsInstanceId },
    body: JSON.parse(keyCreateBody({ name }).toString('utf8')),
    deadlineMs: session.stack.rpcTimeoutMs + 5_000,
  });
  if (created.status !== 201) throw new Error(`e2e: root key ${name}: ${created.status} ${JSON.stringify(created.body)}`);
  const keyId = KmsWire.KeyCollection.parse(created.body).resources[0]?.id;
  if (!keyId) throw new Error(`e2e: root key ${name} was created without an id`);
  return keyId;
}

/** The service-to-service authorization: the Secrets Manager instance may use (Reader) the kms instance. */
async function authorizeSecretsToKms(session: AdminSession, instanceGuid: string, kmsInstanceId: string): Promise<void> {
  const created = await request(`${session.stack.gatewayUrl}/v1/policies`, {
    method: 'POST',
    headers: bearer(session.token),
    body: {
      type: 'authorization',
      subjects: [
        {
          attributes: [
            { name: 'accountId', value: session.accountId },
            { name: 'serviceName', value: 'secrets-manager' },
            { name: 'serviceInstance', value: instanceGuid },
          ],
        },
      ],
      roles: [{ role_id: roleCrn('Reader') }],
      resources: [
        {
          attributes: [
            { name: 'accountId', value: session.accountId },
            { name: 'serviceName', value: 'kms' },
            { name: 'serviceInstance', value: kmsInstanceId },
          ],
        },
      ],
    },
    deadlineMs: session.stack.rpcTimeoutMs + 5_000,
  });
  if (created.status !== 201) throw new Error(`e2e: authorization policy: ${created.status} ${JSON.stringify(created.body)}`);
}

/** A new, active Secrets Manager instance of the admin's account, with everything a secret needs. */
export async function provisionSecretsInstance(
  stack: Pick<StackInfo, 'gatewayUrl' | 'rpcTimeoutMs'>,
  nats: NatsCaller,
  session: AdminSession,
  tag: string,
): Promise<SecretsInstance> {
  const kmsInstanceId = (await createKmsInstance(nats, session.accountId, 'kms')).instanceId;
  const keyId = await createRootKey(session, kmsInstanceId, `${tag}-root`);
  const guid = randomUUID();
  await authorizeSecretsToKms(session, guid, kmsInstanceId);
  await nats.expectOk('storage.bucket.create', { instanceGuid: guid });
  const crn = `crn:v1:sealbox:public:secrets-manager:us-south:a/${session.accountId}:${guid}::`;
  const activated = await nats.expectOk('secrets.instance.activate', {
    accountId: session.accountId,
    instanceGuid: guid,
    crn,
    region: 'us-south',
    kmsKey: { instanceId: kmsInstanceId, keyId },
  });
  if (activated.state !== 'active') throw new Error(`e2e: instance ${guid} is ${activated.state} after activation`);
  return { accountId: session.accountId, guid, crn, kms: { instanceId: kmsInstanceId, keyId }, sm: smClient(stack, session.token, guid) };
}

export interface SmFailure {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  /** `errors[].target.name` of the answer. */
  readonly fields: readonly string[];
}

/** How a client call failed (fails the test when it succeeds; rethrows anything but an API error). */
export async function smFailure(call: Promise<unknown>): Promise<SmFailure> {
  try {
    await call;
  } catch (error) {
    if (error instanceof SecretsManagerError) return { status: error.status, code: error.code, message: error.message, fields: error.fields };
    throw error;
  }
  throw new Error('e2e: expected the Secrets Manager call to fail, but it succeeded');
}

/** `{status, code}` of a failure, for `toEqual`. */
export const statusCode = (failure: SmFailure) => ({ status: failure.status, code: failure.code });

/** Test-only PEM certificates and keys of libs/secrets (see their README: never used outside tests). */
export function certificateFixtures(root: string) {
  const fixture = (name: string) => readFileSync(join(root, 'libs/secrets/src/domain/fixtures', name), 'utf8');
  return {
    rsa: { certificate: fixture('test-only-rsa2048.cert.pem'), privateKey: fixture('test-only-rsa2048.key.pem'), commonName: 'rsa.test.sealbox.example' },
    ec: { certificate: fixture('test-only-ec256.cert.pem'), privateKey: fixture('test-only-ec256.key.pem'), commonName: 'ec.test.sealbox.example' },
  };
}

/** Run `work` over `items`, at most `concurrency` at a time; the first failure rejects (after the running ones settle). */
export async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (failure !== undefined) throw failure;
}
