import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { CloudEvent, ErrorCode } from '@sealbox/contracts';
import { dataSourceToken, DomainError, InProcessEventBus, ManualClock, type DatabaseConfig } from '@sealbox/platform';
import { testPlatformModule } from '@sealbox/platform/testing';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { IamBootstrap } from '../../bootstrap/bootstrap.service.js';
import { IamModule } from '../../iam.module.js';
import { AccessDecider, AccountAdminGrant, ApiKeyVerifier, type Principal } from '../../ports.js';
import { TokenRevocations } from '../../tokens/revocations.js';
import { AccountService } from '../account.service.js';
import { IdentityService } from '../identity.service.js';
import { UserService } from '../user.service.js';
import { FakeAccessDecider, FakeAccountAdminGrant } from './access-fakes.js';

/** The IAM module on a real database, with the policies area's ports faked (medium tests). Not used by src. */
export interface IamHarness {
  readonly app: INestApplicationContext;
  readonly identities: IdentityService;
  readonly accounts: AccountService;
  readonly users: UserService;
  readonly revocations: TokenRevocations;
  readonly verifier: ApiKeyVerifier;
  readonly dataSource: DataSource;
  readonly clock: ManualClock;
  readonly decider: FakeAccessDecider;
  readonly adminGrant: FakeAccountAdminGrant;
  readonly events: CloudEvent[];
  /** The administrator created on first start: the platform operator. */
  readonly operator: Principal;
}

/** The IAM module on `database`, its master key file in `dir`, one-hour tokens, silent first start. */
export function iamTestModule(database: DatabaseConfig, dir: string) {
  return IamModule.register({
    database,
    bootstrap: { announce: () => undefined },
    iam: {
      masterKeyFile: join(dir, 'master.key'),
      accessTokenTtlSeconds: 3600,
      refreshTokenTtlSeconds: 86_400,
      signingKeyOverlapSeconds: 3600,
      issuer: 'sealbox-test',
    },
  });
}

export async function startIam(database: DatabaseConfig, dir: string): Promise<IamHarness> {
  const clock = new ManualClock();
  const bus = new InProcessEventBus();
  const events: CloudEvent[] = [];
  bus.subscribe('events.iam.>', (_subject, event) => {
    events.push(event);
  });
  const decider = new FakeAccessDecider();
  const adminGrant = new FakeAccountAdminGrant(decider);
  const moduleRef = await Test.createTestingModule({
    imports: [
      testPlatformModule({ events: bus, clock }),
      iamTestModule(database, dir),
    ],
  })
    .overrideProvider(AccessDecider)
    .useValue(decider)
    .overrideProvider(AccountAdminGrant)
    .useValue(adminGrant)
    .compile();
  const app = await moduleRef.init();
  const first = await app.get(IamBootstrap).ensureBootstrapped();
  return {
    app,
    identities: app.get(IdentityService),
    accounts: app.get(AccountService),
    users: app.get(UserService),
    revocations: app.get(TokenRevocations),
    verifier: app.get(ApiKeyVerifier),
    dataSource: app.get<DataSource>(dataSourceToken('iam')),
    clock,
    decider,
    adminGrant,
    events,
    operator: { iamId: first.adminIamId, accountId: first.accountId },
  };
}

/** The error a call fails with (and that it fails at all). */
export async function failure(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

export async function codeOf(promise: Promise<unknown>): Promise<ErrorCode> {
  return (await failure(promise)).code;
}
