import type { RequestOf, ResponseOf } from '@sealbox/contracts';
import { DomainError, serviceUnavailable, validationFailed, type RpcClient } from '@sealbox/platform';
import { describe, expect, it } from 'vitest';
import { NatsIamCredentialsIssuer } from './nats-iam-credentials-issuer.js';

type IssueSubject = 'iam.apikey.issue-for-service';
type RevokeSubject = 'iam.apikey.revoke';

/** A typed fake of RpcClient.send for the two iam subjects the issuer uses: records requests, answers or fails as told. */
class FakeIam {
  readonly issued: RequestOf<IssueSubject>[] = [];
  readonly revoked: RequestOf<RevokeSubject>[] = [];
  failure: DomainError | undefined;

  async send(subject: IssueSubject, request: RequestOf<IssueSubject>): Promise<ResponseOf<IssueSubject>>;
  async send(subject: RevokeSubject, request: RequestOf<RevokeSubject>): Promise<ResponseOf<RevokeSubject>>;
  async send(
    subject: IssueSubject | RevokeSubject,
    request: RequestOf<IssueSubject> | RequestOf<RevokeSubject>,
  ): Promise<ResponseOf<IssueSubject> | ResponseOf<RevokeSubject>> {
    if (this.failure) throw this.failure;
    if (subject === 'iam.apikey.revoke') {
      this.revoked.push(request as RequestOf<RevokeSubject>);
      return { deleted: true };
    }
    this.issued.push(request as RequestOf<IssueSubject>);
    return { apikey_id: 'ApiKey-1', iam_id: 'iam-ServiceId-s1', expires_at: '2026-01-01T01:00:00.000Z', apikey: 'key-value' };
  }
}

function setup() {
  const iam = new FakeIam();
  return { iam, issuer: new NatsIamCredentialsIssuer(iam as unknown as RpcClient) };
}

async function failureOf(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(error)}`);
  return error;
}

const request = { accountId: 'acc-1', serviceId: 'ServiceId-s1', ttlSeconds: 3600, name: 'ci-deployer' };

describe('NatsIamCredentialsIssuer', () => {
  it('asks iam for a key of the service ID with the ttl in seconds and returns its id and value', async () => {
    const { iam, issuer } = setup();
    expect(await issuer.issue({ ...request, description: 'for CI' })).toEqual({ apiKeyId: 'ApiKey-1', apiKey: 'key-value' });
    expect(iam.issued).toEqual([{ account_id: 'acc-1', service_id: 'ServiceId-s1', ttl_seconds: 3600, name: 'ci-deployer', description: 'for CI' }]);
  });

  it('sends no description when there is none', async () => {
    const { iam, issuer } = setup();
    await issuer.issue(request);
    expect(iam.issued[0]).not.toHaveProperty('description');
  });

  it('turns iam NOT_FOUND (no such service ID in the account) into VALIDATION_FAILED naming service_id', async () => {
    const { iam, issuer } = setup();
    iam.failure = new DomainError('NOT_FOUND', 'Service ID ServiceId-nope was not found');
    const error = await failureOf(issuer.issue({ ...request, serviceId: 'ServiceId-nope' }));
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.fields).toEqual([{ field: 'service_id', message: expect.stringContaining('ServiceId-nope') }]);
  });

  it('passes every other failure through unchanged', async () => {
    const { iam, issuer } = setup();
    for (const failure of [serviceUnavailable('The iam service cannot be reached'), validationFailed([{ field: 'ttl_seconds', message: 'too big' }])]) {
      iam.failure = failure;
      expect(await failureOf(issuer.issue(request))).toBe(failure);
      expect(await failureOf(issuer.revoke('acc-1', 'ApiKey-1'))).toBe(failure);
    }
  });

  it('revokes by account and key id', async () => {
    const { iam, issuer } = setup();
    await issuer.revoke('acc-1', 'ApiKey-1');
    expect(iam.revoked).toEqual([{ account_id: 'acc-1', apikey_id: 'ApiKey-1' }]);
  });
});
