/**
 * `iam_credentials`: each version is a fresh API key of the secret's service ID, issued by iam with
 * the secret's ttl. An API key issued for a version that is not committed is revoked again; deleting
 * the secret revokes its versions' keys.
 */
import { SecretsWire } from '@sealbox/contracts';
import { isDomainError, rootLogger } from '@sealbox/platform';
import type { IssuedApiKey } from '../../ports.js';
import { textField } from '../payload.js';
import { nextRotationAt } from '../rotation.js';
import { fieldError } from '../validation.js';
import type { SecretTypeHandler, TypeServices, VersionMade } from './handler.js';

/** The secret's details of an iam_credentials secret. */
export interface IamCredentialsDetails {
  readonly ttl: string;
  readonly reuse_api_key: boolean;
  readonly service_id: string;
  readonly access_groups?: readonly string[];
  readonly account_id?: string;
  readonly rotation?: SecretsWire.RotationPolicy;
}

/** A version's details: the API key's id and its service ID. */
export interface IamVersionDetails {
  readonly api_key_id: string;
  readonly service_id: string;
}

async function issue(services: TypeServices, accountId: string, details: IamCredentialsDetails, name: string, description: string | undefined): Promise<IssuedApiKey> {
  const ttlSeconds = SecretsWire.ttlSeconds(details.ttl);
  if (ttlSeconds === undefined) throw fieldError('ttl', 'is not a valid ttl');
  try {
    return await services.issuer.issue({ accountId, serviceId: details.service_id, ttlSeconds, name, ...(description === undefined ? {} : { description }) });
  } catch (error) {
    if (isDomainError(error) && error.code === 'NOT_FOUND') throw fieldError('service_id', `service ID ${details.service_id} does not exist in the account`);
    throw error;
  }
}

/** Revoke an API key (best effort: its ttl ends it anyway). */
async function revoke(services: TypeServices, accountId: string, apiKeyId: string, why: string): Promise<void> {
  try {
    await services.issuer.revoke(accountId, apiKeyId);
  } catch (error) {
    rootLogger().warn({ err: error, accountId, apiKeyId }, `secrets: could not revoke ${why}; its ttl ends it`);
  }
}

function issuedVersion(services: TypeServices, accountId: string, details: IamCredentialsDetails, issued: IssuedApiKey): Omit<VersionMade, 'secretDetails'> {
  return {
    payload: { api_key: issued.apiKey },
    versionDetails: { api_key_id: issued.apiKeyId, service_id: details.service_id },
    versionExpirationAt: null,
    discard: () => revoke(services, accountId, issued.apiKeyId, 'an unused API key'),
  };
}

export const iamCredentials: SecretTypeHandler<'iam_credentials'> = {
  type: 'iam_credentials',
  async first({ accountId, prototype, now, services }) {
    if (prototype.service_id === undefined) throw fieldError('service_id', 'is required (access groups without a service ID are not supported)');
    if (prototype.account_id !== undefined && prototype.account_id !== accountId) throw fieldError('account_id', "must be the instance's account");
    const details: IamCredentialsDetails = {
      ttl: prototype.ttl,
      reuse_api_key: prototype.reuse_api_key,
      service_id: prototype.service_id,
      ...(prototype.access_groups ? { access_groups: prototype.access_groups } : {}),
      ...(prototype.account_id ? { account_id: prototype.account_id } : {}),
      ...(prototype.rotation ? { rotation: prototype.rotation } : {}),
    };
    const issued = await issue(services, accountId, details, prototype.name, prototype.description);
    return {
      ...issuedVersion(services, accountId, details, issued),
      secretDetails: { ...details },
      secretExpirationAt: null,
      nextRotationAt: nextRotationAt(prototype.rotation, now),
    };
  },
  async next({ secret, services }) {
    const details = secret.details as unknown as IamCredentialsDetails;
    const issued = await issue(services, secret.accountId, details, secret.name, undefined);
    return { ...issuedVersion(services, secret.accountId, details, issued), secretDetails: secret.details };
  },
  decode: (value) => ({ api_key: textField(value, 'api_key') ?? '' }),
  metadataView(secret, { nextRotation }) {
    const details = secret.details as unknown as IamCredentialsDetails;
    return {
      ttl: details.ttl,
      reuse_api_key: details.reuse_api_key,
      service_id: details.service_id,
      service_id_is_static: true,
      ...(details.access_groups ? { access_groups: [...details.access_groups] } : {}),
      ...(details.account_id ? { account_id: details.account_id } : {}),
      ...(details.rotation ? { rotation: details.rotation } : {}),
      ...nextRotation,
    };
  },
  versionView(version) {
    const details = version.details as unknown as IamVersionDetails;
    return { api_key_id: details.api_key_id, service_id: details.service_id };
  },
  /** The secret shows its current version's key id next to the key. */
  payloadView(payload, version) {
    const apiKeyId = (version?.details as Partial<IamVersionDetails> | undefined)?.api_key_id;
    return { ...payload, ...(apiKeyId ? { api_key_id: apiKeyId } : {}) };
  },
  patchDetails: (details, patch) => (patch['ttl'] === undefined ? details : { ...details, ttl: patch['ttl'] }),
  async deleted(secret, versions, services) {
    for (const version of versions) {
      const apiKeyId = (version.details as Partial<IamVersionDetails>).api_key_id;
      if (apiKeyId) await revoke(services, secret.accountId, apiKeyId, "a deleted secret's API key");
    }
  },
};
