import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceDatabaseModule, type DatabaseConfig } from '@sealbox/platform';
import { apiKeyMigrations, apiKeyProviders } from './apikeys/index.js';
import { IAM_BOOTSTRAP_OPTIONS, IamBootstrap, type IamBootstrapOptions } from './bootstrap/bootstrap.service.js';
import { iamEntities } from './entities/index.js';
import { IamRpcController } from './iam.controller.js';
import { AccountService, identityEntities, identityMigrations, IdentityService, UserService } from './identities/index.js';
import { iamMigrations } from './migrations/index.js';
import { policyEntities, policyMigrations, PolicyService } from './policies/index.js';
import { AccessDecider, AccountAdminGrant, ApiKeyVerifier, SubjectPolicyCleanup, TokenRevoker } from './ports.js';
import { tokenEntities, tokenMigrations, tokenProviders, TokenRevocations } from './tokens/index.js';
import { IAM_OPTIONS, type IamOptions } from './options.js';

export interface IamModuleOptions {
  readonly database: DatabaseConfig;
  readonly bootstrap: IamBootstrapOptions;
  readonly iam: IamOptions;
}

/** Identities, API keys, tokens and policies. */
@Module({})
export class IamModule {
  static register(options: IamModuleOptions): DynamicModule {
    return {
      module: IamModule,
      imports: [
        ServiceDatabaseModule.register({
          service: 'iam',
          config: options.database,
          entities: [...iamEntities, ...identityEntities, ...policyEntities, ...tokenEntities],
          migrations: [...iamMigrations, ...identityMigrations, ...policyMigrations, ...tokenMigrations, ...apiKeyMigrations],
        }),
      ],
      controllers: [IamRpcController],
      providers: [
        { provide: IAM_BOOTSTRAP_OPTIONS, useValue: options.bootstrap },
        { provide: IAM_OPTIONS, useValue: options.iam },
        IamBootstrap,
        ...tokenProviders,
        IdentityService,
        AccountService,
        UserService,
        ...apiKeyProviders,
        PolicyService,
        { provide: AccessDecider, useExisting: PolicyService },
        { provide: AccountAdminGrant, useExisting: PolicyService },
        { provide: SubjectPolicyCleanup, useExisting: PolicyService },
        { provide: ApiKeyVerifier, useExisting: IdentityService },
        { provide: TokenRevoker, useExisting: TokenRevocations },
      ],
      exports: [IamBootstrap, AccessDecider],
    };
  }
}
