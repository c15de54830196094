import { Test } from '@nestjs/testing';
import { IamWire, type ErrorCode } from '@sealbox/contracts';
import {
  dataSourceToken,
  DomainError,
  InProcessEventBus,
  ManualClock,
  peekJwtHeader,
  publicKeyFromJwk,
  ServiceDatabaseModule,
  verifyJwt,
  type DatabaseConfig,
} from '@sealbox/platform';
import { createTestDatabase, testDatabases, testPlatformModule } from '@sealbox/platform/testing';
import { createPrivateKey, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource, Repository } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { IAM_OPTIONS, type IamOptions } from '../options.js';
import { ApiKeyVerifier, type VerifiedApiKey } from '../ports.js';
import { loadMasterKeyFile } from './master-key.js';
import { RefreshTokenEntity } from './refresh-token.entity.js';
import { SigningKeyEntity } from './signing-key.entity.js';
import { ACTIVE_KEY_RECHECK_MS, sealedKeyContext } from './signing-keys.js';
import { refreshTokenHash, TokenService } from './token.service.js';
import { tokenEntities, tokenMigrations, tokenProviders } from './index.js';

const admin: VerifiedApiKey = { apikeyId: 'ApiKey-admin', iamId: 'IBMid-admin', accountId: 'acct-a', subType: 'user', name: 'admin' };

/** One API key, `admin-key`. */
class FakeApiKeyVerifier extends ApiKeyVerifier {
  async verify(value: string): Promise<VerifiedApiKey> {
    if (value !== 'admin-key') throw new DomainError('INVALID_GRANT', 'The API key is not valid');
    return admin;
  }

  async current(apikeyId: string): Promise<VerifiedApiKey> {
    if (apikeyId !== admin.apikeyId) throw new DomainError('INVALID_GRANT', 'The API key is not valid');
    return admin;
  }
}

interface Replica {
  readonly tokens: TokenService;
  readonly signingKeys: Repository<SigningKeyEntity>;
  readonly refreshTokens: Repository<RefreshTokenEntity>;
  close(): Promise<void>;
}

/** One IAM replica's token area: its own module, connection pool and caches, on the shared database and master key file. */
async function startReplica(database: DatabaseConfig, masterKeyFile: string, clock: ManualClock): Promise<Replica> {
  const events = new InProcessEventBus();
  const options: IamOptions = {
    masterKeyFile,
    accessTokenTtlSeconds: 3600,
    refreshTokenTtlSeconds: 86_400,
    signingKeyOverlapSeconds: 3600,
    issuer: 'sealbox-test',
  };
  const moduleRef = await Test.createTestingModule({
    imports: [
      testPlatformModule({ events: events, clock }),
      ServiceDatabaseModule.register({ service: 'iam', config: database, entities: tokenEntities, migrations: tokenMigrations }),
    ],
    providers: [...tokenProviders, { provide: IAM_OPTIONS, useValue: options }, { provide: ApiKeyVerifier, useValue: new FakeApiKeyVerifier() }],
  }).compile();
  const app = await moduleRef.init().catch(async (error: unknown) => {
    // A replica that refuses to start still releases its database connections and relay.
    await moduleRef.close().catch(() => undefined);
    throw error;
  });
  const dataSource = app.get<DataSource>(dataSourceToken('iam'));
  return {
    tokens: app.get(TokenService),
    signingKeys: dataSource.getRepository(SigningKeyEntity),
    refreshTokens: dataSource.getRepository(RefreshTokenEntity),
    close: () => app.close(),
  };
}

async function verifyWithJwks(replica: Replica, token: string, now: number): Promise<Record<string, unknown>> {
  const { kid } = peekJwtHeader(token);
  const jwk = (await replica.tokens.jwks()).keys.find((key) => key.kid === kid);
  if (!jwk) throw new DomainError('UNAUTHORIZED', `unknown kid ${kid}`);
  return verifyJwt(token, await publicKeyFromJwk(jwk), { currentDate: new Date(now * 1000), leewaySeconds: 0 });
}

async function rejection(promise: Promise<unknown>, code: ErrorCode): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
  return error as DomainError;
}

const apikeyGrant = { grant_type: IamWire.APIKEY_GRANT, apikey: 'admin-key' } as const;
const refreshGrant = (refresh_token: string) => ({ grant_type: 'refresh_token', refresh_token }) as const;
const kidOf = (token: string) => peekJwtHeader(token).kid;
const kids = async (replica: Replica) => (await replica.tokens.jwks()).keys.map((key) => key.kid);
const seconds = (clock: ManualClock) => Math.floor(clock.nowMs() / 1000);

function describeTokens(name: string, database: () => Promise<{ config: DatabaseConfig; cleanup(): Promise<void> }>) {
  describe(`IAM tokens on a shared database (${name})`, () => {
    let config: DatabaseConfig;
    let cleanup: () => Promise<void>;
    let dir: string;
    let masterKeyFile: string;
    const clock = new ManualClock();
    const running: Replica[] = [];
    const replica = async (keyFile = masterKeyFile) => {
      const started = await startReplica(config, keyFile, clock);
      running.push(started);
      return started;
    };

    beforeAll(async () => {
      ({ config, cleanup } = await database());
      dir = mkdtempSync(join(tmpdir(), 'sealbox-iam-tokens-'));
      masterKeyFile = join(dir, 'master.key');
    });
    afterEach(async () => {
      // One after the other: SQLite replicas in one process must not hold transactions at the same time.
      for (const started of running.splice(0)) await started.close();
    });
    afterAll(async () => {
      await cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('replicas share one signing key and the master key file, and accept each other\'s tokens', async () => {
      const a = await replica();
      const b = await replica();
      expect(statSync(masterKeyFile).mode & 0o777).toBe(0o600);
      expect(await a.signingKeys.countBy({ state: 'active' })).toBe(1);
      expect(await kids(a)).toHaveLength(1);
      expect(await b.tokens.jwks()).toEqual(await a.tokens.jwks());

      const fromA = await a.tokens.exchange(apikeyGrant);
      const fromB = await b.tokens.exchange(apikeyGrant);
      expect(await verifyWithJwks(b, fromA.access_token, seconds(clock))).toMatchObject({ sub: 'admin', account: { bss: 'acct-a' } });
      expect(await verifyWithJwks(a, fromB.access_token, seconds(clock))).toMatchObject({ sub: 'admin', iam_id: 'IBMid-admin' });

      // A refresh token of one replica is consumed at the other; the replay is caught wherever it lands
      // and revokes that chain, whichever replica issued its tokens.
      const refreshed = await b.tokens.exchange(refreshGrant(fromA.refresh_token));
      await rejection(a.tokens.exchange(refreshGrant(fromA.refresh_token)), 'INVALID_GRANT');
      await rejection(b.tokens.exchange(refreshGrant(refreshed.refresh_token)), 'INVALID_GRANT');
      const chain = (await a.refreshTokens.findOneByOrFail({ tokenHash: refreshTokenHash(fromA.refresh_token) })).chainId;
      const rows = await a.refreshTokens.findBy({ accountId: 'acct-a', apikeyId: admin.apikeyId, chainId: chain ?? '' });
      expect(rows).toHaveLength(2);
      expect(rows.every((row) => row.revokedAt === clock.nowMs())).toBe(true);
      expect(rows.map((row) => row.tokenHash)).toContain(refreshTokenHash(refreshed.refresh_token));
      // The other sign-in is another chain: untouched.
      await expect(a.tokens.exchange(refreshGrant(fromB.refresh_token))).resolves.toMatchObject({ token_type: 'Bearer' });
    });

    it('a rotation on one replica reaches the JWKS of the other at once and its signing within the re-check time', async () => {
      const a = await replica();
      const b = await replica();
      const before = await a.tokens.exchange(apikeyGrant);
      const oldKid = kidOf(before.access_token);

      const rotation = await b.tokens.rotateSigningKey();
      expect(rotation.retiring).toEqual([oldKid]);
      expect(await kids(a)).toEqual([rotation.kid, oldKid]);
      expect(kidOf((await b.tokens.exchange(apikeyGrant)).access_token)).toBe(rotation.kid);
      // A still signs with its cached key (valid: it is retiring) until it re-reads the active key id.
      const stale = await a.tokens.exchange(apikeyGrant);
      expect(kidOf(stale.access_token)).toBe(oldKid);
      clock.advance(ACTIVE_KEY_RECHECK_MS);
      const fresh = await a.tokens.exchange(apikeyGrant);
      expect(kidOf(fresh.access_token)).toBe(rotation.kid);
      for (const token of [before, stale, fresh]) {
        expect(await verifyWithJwks(a, token.access_token, seconds(clock))).toMatchObject({ sub: 'admin' });
        expect(await verifyWithJwks(b, token.access_token, seconds(clock))).toMatchObject({ sub: 'admin' });
      }
    });

    it('a restarted replica unseals the stored key with the master key file and signs with it', async () => {
      const active = await (await replica()).signingKeys.findOneByOrFail({ state: 'active' });
      for (const started of running.splice(0)) await started.close();
      const restarted = await replica();
      const token = await restarted.tokens.exchange(apikeyGrant);
      expect(kidOf(token.access_token)).toBe(active.kid);
      expect(await restarted.signingKeys.countBy({ state: 'active' })).toBe(1);
    });

    it('stores the private keys only sealed: no `d`, no PKCS#8 in clear', async () => {
      const started = await replica();
      await started.tokens.rotateSigningKey();
      const rows = await started.signingKeys.find();
      expect(rows.length).toBeGreaterThanOrEqual(2);
      const masterKey = loadMasterKeyFile(masterKeyFile);
      for (const row of rows) {
        const der = await masterKey.open(Buffer.from(row.privateKeySealed, 'base64'), sealedKeyContext(row.kid));
        const { d } = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
        const secret = Buffer.from(d ?? '', 'base64url');
        expect(secret).toHaveLength(32);
        const stored = JSON.stringify(row);
        for (const clear of [d ?? '', secret.toString('base64'), secret.toString('hex'), der.toString('base64'), 'PRIVATE KEY']) {
          expect(stored).not.toContain(clear);
        }
        expect(Buffer.from(row.privateKeySealed, 'base64').includes(secret)).toBe(false);
      }
    });

    it('refuses to start with another master key: the stored signing key does not open', async () => {
      const otherKeyFile = join(dir, 'other.key');
      writeFileSync(otherKeyFile, randomBytes(32), { mode: 0o600 });
      await expect(replica(otherKeyFile)).rejects.toThrow(/failed authentication/);
    });

    it('does not serve a key whose public key was changed in the database, and refuses to sign with one', async () => {
      const a = await replica();
      const rotation = await a.tokens.rotateSigningKey();
      const served = await kids(a);
      const active = await a.signingKeys.findOneByOrFail({ kid: rotation.kid });
      const retiring = await a.signingKeys.findOneByOrFail({ kid: rotation.retiring[0] ?? '' });
      const original = { active: active.publicJwk, retiring: retiring.publicJwk };
      try {
        // A retiring key changed to the active key's public key: a fresh replica leaves it out of the JWKS.
        await a.signingKeys.update({ kid: retiring.kid }, { publicJwk: active.publicJwk });
        const b = await replica();
        expect(await kids(b)).toEqual(served.filter((kid) => kid !== retiring.kid));
        expect(served).toContain(retiring.kid);
        // The active key changed: a fresh replica refuses to start rather than serve or sign with it.
        await a.signingKeys.update({ kid: active.kid }, { publicJwk: original.retiring });
        await expect(replica()).rejects.toThrow(/does not match/);
      } finally {
        await a.signingKeys.update({ kid: active.kid }, { publicJwk: original.active });
        await a.signingKeys.update({ kid: retiring.kid }, { publicJwk: original.retiring });
      }
    });
  });
}

for (const database of testDatabases) describeTokens(database.name, database.open);

describe('IAM token replicas racing (PostgreSQL)', () => {
  let config: DatabaseConfig;
  let drop: () => Promise<void>;
  let dir: string;
  const clock = new ManualClock();

  beforeAll(async () => {
    const database = await createTestDatabase();
    config = { type: 'postgres', url: database.url };
    drop = () => database.drop();
    dir = mkdtempSync(join(tmpdir(), 'sealbox-iam-tokens-race-'));
  });
  afterAll(async () => {
    await drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('three replicas starting together create one master key file and one active signing key', async () => {
    const keyFile = join(dir, 'master.key');
    const replicas = await Promise.all([1, 2, 3].map(() => startReplica(config, keyFile, clock)));
    try {
      expect(await replicas[0]?.signingKeys.countBy({ state: 'active' })).toBe(1);
      const signed = await Promise.all(replicas.map(async (replica) => kidOf((await replica.tokens.exchange(apikeyGrant)).access_token)));
      expect(new Set(signed).size).toBe(1);

      // Concurrent rotations both happen, one after the other; exactly one key ends up active.
      const rotations = await Promise.all(replicas.map((replica) => replica.tokens.rotateSigningKey()));
      expect(new Set(rotations.map((rotation) => rotation.kid)).size).toBe(3);
      const active = await replicas[0]?.signingKeys.findBy({ state: 'active' });
      expect(active).toHaveLength(1);
      expect(rotations.map((rotation) => rotation.kid)).toContain(active?.[0]?.kid);
      expect(await replicas[0]?.signingKeys.countBy({ state: 'retiring' })).toBe(3);
    } finally {
      await Promise.all(replicas.map((replica) => replica.close()));
    }
  });
});
