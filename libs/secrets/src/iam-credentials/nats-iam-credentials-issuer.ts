import { Injectable } from '@nestjs/common';
import { DomainError, RpcClient, validationFailed } from '@sealbox/platform';
import { IamCredentialsIssuer, type IssuedApiKey } from '../ports.js';

type IssueRequest = Parameters<IamCredentialsIssuer['issue']>[0];

/**
 * API keys for `iam_credentials` secrets, issued and revoked by iam over NATS
 * (`iam.apikey.issue-for-service`, `iam.apikey.revoke`; docker/nats.conf lets only the secrets
 * service publish them). iam deletes the key itself when the ttl ends. A service ID that is not one
 * of the account is the caller's bad input: VALIDATION_FAILED naming `service_id`. Any other failure
 * (iam unreachable, …) passes through unchanged. The key value is only returned: never logged here.
 */
@Injectable()
export class NatsIamCredentialsIssuer extends IamCredentialsIssuer {
  constructor(private readonly rpc: RpcClient) {
    super();
  }

  async issue(request: IssueRequest): Promise<IssuedApiKey> {
    try {
      const issued = await this.rpc.send('iam.apikey.issue-for-service', {
        account_id: request.accountId,
        service_id: request.serviceId,
        ttl_seconds: request.ttlSeconds,
        name: request.name,
        ...(request.description !== undefined ? { description: request.description } : {}),
      });
      return { apiKeyId: issued.apikey_id, apiKey: issued.apikey };
    } catch (error) {
      if (error instanceof DomainError && error.code === 'NOT_FOUND') {
        throw validationFailed([{ field: 'service_id', message: `is not a service ID of the account (${request.serviceId})` }]);
      }
      throw error;
    }
  }

  async revoke(accountId: string, apiKeyId: string): Promise<void> {
    await this.rpc.send('iam.apikey.revoke', { account_id: accountId, apikey_id: apiKeyId });
  }
}
