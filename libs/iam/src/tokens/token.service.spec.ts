import { Test } from '@nestjs/testing';
import { IamWire, type CloudEvent, type ErrorCode } from '@sealbox/contracts';
import {
  dataSourceToken,
  DomainError,
  InProcessEventBus,
  ManualClock,
  peekJwtHeader,
  publicKeyFromJwk,
  ServiceDatabaseModule,
  verifyJwt,
} from '@sealbox/platform';
import { testPlatformModule } from '@sealbox/platform/testing';
import { createHash, createPrivateKey, randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { IAM_OPTIONS, type IamOptions } from '../options.js';
import { ApiKeyVerifier, type VerifiedApiKey } from '../ports.js';
import { AesGcmMasterKey, MasterKey } from './master-key.js';
import { RefreshTokenEntity } from './refresh-token.entity.js';
import { SigningKeyEntity } from './signing-key.entity.js';
import { REVOCATION_MARGIN_MS, TokenRevocations } from './revocations.js';
import { ACTIVE_KEY_RECHECK_MS, sealedKeyContext } from './signing-keys.js';
import { refreshTokenHash, TokenService } from './token.service.js';
import { tokenEntities, tokenMigrations, tokenProviders } from './index.js';

const SECOND = 1000;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;

const admin: VerifiedApiKey = { apikeyId: 'ApiKey-admin', iamId: 'IBMid-admin', accountId: 'acct-a', subType: 'user', name: 'admin' };
const robot: VerifiedApiKey = { apikeyId: 'ApiKey-robot', iamId: 'iam-ServiceId-robot', accountId: 'acct-a', subType: 'ServiceId', name: 'robot' };

/** API keys by value; a key can be withdrawn (deleted or expired) to see refresh refused. */
class FakeApiKeyVerifier extends ApiKeyVerifier {
  private readonly byValue = new Map<string, VerifiedApiKey>();
  private readonly withdrawn = new Set<string>();

  add(value: string, key: VerifiedApiKey): void {
    this.byValue.set(value, key);
  }

  withdraw(apikeyId: string): void {
    this.withdrawn.add(apikeyId);
  }

  async verify(value: string): Promise<VerifiedApiKey> {
    const key = this.byValue.get(value);
    if (!key || this.withdrawn.has(key.apikeyId)) throw new DomainError('INVALID_GRANT', 'The API key is not valid');
    return key;
  }

  async current(apikeyId: string): Promise<VerifiedApiKey> {
    const key = [...this.byValue.values()].find((candidate) => candidate.apikeyId === apikeyId);
    if (!key || this.withdrawn.has(apikeyId)) throw new DomainError('INVALID_GRANT', 'The API key is not valid');
    return key;
  }
}

const defaults: IamOptions = {
  masterKeyFile: '/nonexistent/not-used-in-unit-tests',
  accessTokenTtlSeconds: 3600,
  refreshTokenTtlSeconds: 7 * 86_400,
  signingKeyOverlapSeconds: 3600,
  issuer: 'sealbox-test',
};

const started: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((app) => app.close()));
});

async function start(options: Partial<IamOptions> = {}) {
  const clock = new ManualClock();
  const verifier = new FakeApiKeyVerifier();
  verifier.add('admin-key', admin);
  verifier.add('robot-key', robot);
  const events = new InProcessEventBus();
  const received: CloudEvent[] = [];
  events.subscribe('events.iam.>', (_subject, event) => {
    received.push(event);
  });
  const masterKey = new AesGcmMasterKey(randomBytes(32));
  const moduleRef = await Test.createTestingModule({
    imports: [
      testPlatformModule({ events: events, clock }),
      ServiceDatabaseModule.register({
        service: 'iam',
        config: { type: 'sqlite', path: ':memory:' },
        entities: tokenEntities,
        migrations: tokenMigrations,
      }),
    ],
    providers: [...tokenProviders, { provide: IAM_OPTIONS, useValue: { ...defaults, ...options } }, { provide: ApiKeyVerifier, useValue: verifier }],
  })
    .overrideProvider(MasterKey)
    .useValue(masterKey)
    .compile();
  const app = await moduleRef.init();
  started.push(app);
  const dataSource = app.get<DataSource>(dataSourceToken('iam'));
  return {
    tokens: app.get(TokenService),
    revocations: app.get(TokenRevocations),
    clock,
    verifier,
    masterKey,
    received,
    signingKeys: dataSource.getRepository(SigningKeyEntity),
    refreshTokens: dataSource.getRepository(RefreshTokenEntity),
  };
}

type Started = Awaited<ReturnType<typeof start>>;

const nowSeconds = (clock: ManualClock) => Math.floor(clock.nowMs() / 1000);

/** What the gateway does: find the token's key in the JWKS by kid, then verify. */
async function verifyWithJwks(tokens: TokenService, token: string, now: number, leewaySeconds = 0): Promise<Record<string, unknown>> {
  const { kid } = peekJwtHeader(token);
  const jwk = (await tokens.jwks()).keys.find((key) => key.kid === kid);
  if (!jwk) throw new DomainError('UNAUTHORIZED', `unknown kid ${kid}`);
  return verifyJwt(token, await publicKeyFromJwk(jwk), { currentDate: new Date(now * 1000), leewaySeconds });
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

const apikeyGrant = (apikey: string) => ({ grant_type: IamWire.APIKEY_GRANT, apikey }) as const;
const refreshGrant = (refresh_token: string) => ({ grant_type: 'refresh_token', refresh_token }) as const;
const kidOf = (token: string) => peekJwtHeader(token).kid;
const kids = async (started: Started) => (await started.tokens.jwks()).keys.map((key) => key.kid);

describe('TokenService: signing keys at start', () => {
  it('creates one active ES256 key, serves it as a JWK and records iam.signing-key.rotated', async () => {
    const { tokens, signingKeys, received } = await start();
    const rows = await signingKeys.find();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.state).toBe('active');
    const { keys } = await tokens.jwks();
    expect(keys).toEqual([
      { kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), kid: rows[0]?.kid, alg: 'ES256', use: 'sig' },
    ]);
    expect(keys[0]).not.toHaveProperty('d');
    // The kid is the key's RFC 7638 thumbprint (SHA-256 of the required members in lexicographic
    // order), so kids stored before stay the kids of their keys.
    const canonical = JSON.stringify({ crv: keys[0]?.['crv'], kty: keys[0]?.kty, x: keys[0]?.['x'], y: keys[0]?.['y'] });
    expect(rows[0]?.kid).toBe(createHash('sha256').update(canonical).digest('base64url'));
    await expect.poll(() => received.map((event) => [event.type, event.data])).toEqual([
      ['com.sealbox.iam.signing-key.rotated', { kid: rows[0]?.kid }],
    ]);
  });
});

describe('TokenService: API key grant', () => {
  it("issues an ES256 access token with IBM's claims and Sealbox's two private ones, verifiable with the JWKS", async () => {
    const { tokens, clock } = await start();
    const iat = nowSeconds(clock);
    const response = await tokens.exchange(apikeyGrant('admin-key'));
    expect(response).toEqual({
      access_token: expect.any(String),
      refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      token_type: 'Bearer',
      expires_in: 3600,
      expiration: iat + 3600,
      scope: 'ibm openid',
    });
    const [header] = response.access_token.split('.');
    expect(JSON.parse(Buffer.from(header ?? '', 'base64url').toString())).toEqual({
      alg: 'ES256',
      typ: 'JWT',
      kid: (await tokens.jwks()).keys[0]?.kid,
    });
    const claims = await verifyWithJwks(tokens, response.access_token, iat);
    expect(claims).toEqual({
      iss: 'sealbox-test',
      sub: 'admin',
      sub_type: 'user',
      iam_id: 'IBMid-admin',
      id: 'IBMid-admin',
      account: { bss: 'acct-a' },
      grant_type: 'urn:ibm:params:oauth:grant-type:apikey',
      scope: 'ibm openid',
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      iat,
      exp: iat + 3600,
      apikey_id: 'ApiKey-admin',
      chain_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(IamWire.AccessTokenClaims.strict().parse(claims)).toEqual(claims);
  });

  it('names a service ID as such and gives every token its own jti', async () => {
    const { tokens, clock } = await start();
    const first = await verifyWithJwks(tokens, (await tokens.exchange(apikeyGrant('robot-key'))).access_token, nowSeconds(clock));
    const second = await verifyWithJwks(tokens, (await tokens.exchange(apikeyGrant('robot-key'))).access_token, nowSeconds(clock));
    expect(first).toMatchObject({ sub: 'robot', sub_type: 'ServiceId', iam_id: 'iam-ServiceId-robot', id: 'iam-ServiceId-robot' });
    expect(first['jti']).not.toBe(second['jti']);
  });

  it('refuses an unknown or withdrawn API key with INVALID_GRANT and stores no refresh token', async () => {
    const { tokens, verifier, refreshTokens } = await start();
    await rejection(tokens.exchange(apikeyGrant('no-such-key')), 'INVALID_GRANT');
    verifier.withdraw(robot.apikeyId);
    await rejection(tokens.exchange(apikeyGrant('robot-key')), 'INVALID_GRANT');
    expect(await refreshTokens.count()).toBe(0);
  });

  it('access tokens live the configured time and are refused once expired', async () => {
    const { tokens, clock } = await start({ accessTokenTtlSeconds: 600 });
    const iat = nowSeconds(clock);
    const response = await tokens.exchange(apikeyGrant('admin-key'));
    expect(response.expires_in).toBe(600);
    expect(response.expiration).toBe(iat + 600);
    expect(await verifyWithJwks(tokens, response.access_token, iat + 599)).toMatchObject({ iat, exp: iat + 600 });
    clock.advance(600 * SECOND);
    const expired = await rejection(verifyWithJwks(tokens, response.access_token, nowSeconds(clock)), 'UNAUTHORIZED');
    expect(expired.message).toContain('expired');
  });

  it('stores a refresh token only as its SHA-256 hash, with key, identity, account and expiry', async () => {
    const { tokens, clock, refreshTokens } = await start();
    const { refresh_token } = await tokens.exchange(apikeyGrant('robot-key'));
    const rows = await refreshTokens.find();
    expect(rows).toEqual([
      {
        tokenHash: refreshTokenHash(refresh_token),
        accountId: 'acct-a',
        apikeyId: 'ApiKey-robot',
        iamId: 'iam-ServiceId-robot',
        chainId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        createdAt: clock.nowMs(),
        expiresAt: clock.nowMs() + 7 * DAY,
        usedAt: null,
        revokedAt: null,
      },
    ]);
    expect(JSON.stringify(rows)).not.toContain(refresh_token);
  });
});

describe('TokenService: refresh token grant', () => {
  it('gives a new pair for the same identity and consumes the presented token', async () => {
    const { tokens, clock, refreshTokens } = await start();
    const first = await tokens.exchange(apikeyGrant('admin-key'));
    clock.advance(48 * 60 * SECOND);
    const second = await tokens.exchange(refreshGrant(first.refresh_token));
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.expiration).toBe(nowSeconds(clock) + 3600);
    const claims = await verifyWithJwks(tokens, second.access_token, nowSeconds(clock));
    expect(claims).toMatchObject({ sub: 'admin', iam_id: 'IBMid-admin', account: { bss: 'acct-a' }, iat: nowSeconds(clock) });
    const used = await refreshTokens.findOneByOrFail({ tokenHash: refreshTokenHash(first.refresh_token) });
    expect(used.usedAt).toBe(clock.nowMs());
    // The new one works in turn.
    const third = await tokens.exchange(refreshGrant(second.refresh_token));
    expect(third.refresh_token).not.toBe(second.refresh_token);
  });

  it('keeps one refresh chain per API key sign-in: every refresh of it names the same chain', async () => {
    const { tokens, clock } = await start();
    const chainOf = async (token: string) => (await verifyWithJwks(tokens, token, nowSeconds(clock)))['chain_id'];
    const session = await tokens.exchange(apikeyGrant('admin-key'));
    const refreshed = await tokens.exchange(refreshGrant(session.refresh_token));
    const again = await tokens.exchange(refreshGrant(refreshed.refresh_token));
    const other = await tokens.exchange(apikeyGrant('admin-key'));
    expect(await chainOf(refreshed.access_token)).toBe(await chainOf(session.access_token));
    expect(await chainOf(again.access_token)).toBe(await chainOf(session.access_token));
    expect(await chainOf(other.access_token)).not.toBe(await chainOf(session.access_token));
  });

  it('treats a used token presented again as a replay: its chain is revoked, refresh and access tokens', async () => {
    const { tokens, revocations, refreshTokens, received, clock } = await start();
    const session = await tokens.exchange(apikeyGrant('admin-key'));
    const refreshed = await tokens.exchange(refreshGrant(session.refresh_token));
    const otherSession = await tokens.exchange(apikeyGrant('admin-key'));
    const otherKey = await tokens.exchange(apikeyGrant('robot-key'));
    const chain = (await verifyWithJwks(tokens, session.access_token, nowSeconds(clock)))['chain_id'];

    await rejection(tokens.exchange(refreshGrant(session.refresh_token)), 'INVALID_GRANT');
    await rejection(tokens.exchange(refreshGrant(refreshed.refresh_token)), 'INVALID_GRANT');
    const revoked = await refreshTokens.findBy({ chainId: String(chain) });
    expect(revoked).toHaveLength(2);
    expect(revoked.map((row) => row.revokedAt)).not.toContain(null);
    // The access tokens of the chain: one revocation for every gateway, until the last of them expires.
    await expect
      .poll(() => received.filter((event) => event.type === 'com.sealbox.iam.tokens.revoked').map((event) => event.data))
      .toEqual([
        {
          accountId: 'acct-a',
          kind: 'chain',
          id: chain,
          reason: 'refresh-token-replayed',
          expiresAt: new Date(clock.nowMs() + HOUR + REVOCATION_MARGIN_MS).toISOString(),
        },
      ]);
    expect((await revocations.list({ limit: 10 })).revocations).toEqual([
      { kind: 'chain', id: chain, expires_at: new Date(clock.nowMs() + HOUR + REVOCATION_MARGIN_MS).toISOString() },
    ]);

    // Other chains of the key and other API keys are untouched, and the API key itself still signs in.
    await expect(tokens.exchange(refreshGrant(otherSession.refresh_token))).resolves.toMatchObject({ token_type: 'Bearer' });
    await expect(tokens.exchange(refreshGrant(otherKey.refresh_token))).resolves.toMatchObject({ token_type: 'Bearer' });
    const again = await tokens.exchange(apikeyGrant('admin-key'));
    await expect(tokens.exchange(refreshGrant(again.refresh_token))).resolves.toMatchObject({ token_type: 'Bearer' });
  });

  it('lists a revocation until it expires, and forgets it at the next revocation after that', async () => {
    const { tokens, revocations, clock, refreshTokens } = await start();
    const replay = async () => {
      const session = await tokens.exchange(apikeyGrant('robot-key'));
      await tokens.exchange(refreshGrant(session.refresh_token));
      await rejection(tokens.exchange(refreshGrant(session.refresh_token)), 'INVALID_GRANT');
      return (await refreshTokens.findOneByOrFail({ tokenHash: refreshTokenHash(session.refresh_token) })).chainId;
    };
    const first = await replay();
    clock.advance(HOUR + REVOCATION_MARGIN_MS);
    expect((await revocations.list({ limit: 10 })).revocations).toEqual([]);
    const second = await replay();
    expect((await revocations.list({ limit: 10 })).revocations.map((entry) => entry.id)).toEqual([second]);
    expect(first).not.toBe(second);
  });

  it('refuses unknown, malformed and expired refresh tokens with INVALID_GRANT', async () => {
    const { tokens, clock } = await start({ refreshTokenTtlSeconds: 3600 });
    await rejection(tokens.exchange(refreshGrant(randomBytes(32).toString('base64url'))), 'INVALID_GRANT');
    await rejection(tokens.exchange(refreshGrant('x')), 'INVALID_GRANT');
    const early = await tokens.exchange(apikeyGrant('admin-key'));
    const late = await tokens.exchange(apikeyGrant('admin-key'));
    clock.advance(HOUR - 1);
    await expect(tokens.exchange(refreshGrant(early.refresh_token))).resolves.toMatchObject({ token_type: 'Bearer' });
    clock.advance(1);
    await rejection(tokens.exchange(refreshGrant(late.refresh_token)), 'INVALID_GRANT');
  });

  it('drops the expired refresh tokens of an API key when it signs in again', async () => {
    const { tokens, clock, refreshTokens } = await start({ refreshTokenTtlSeconds: 3600 });
    await tokens.exchange(apikeyGrant('admin-key'));
    await tokens.exchange(apikeyGrant('robot-key'));
    clock.advance(HOUR);
    const fresh = await tokens.exchange(apikeyGrant('admin-key'));
    const rows = await refreshTokens.find({ order: { apikeyId: 'ASC' } });
    expect(rows.map((row) => [row.apikeyId, row.tokenHash])).toEqual([
      ['ApiKey-admin', refreshTokenHash(fresh.refresh_token)],
      ['ApiKey-robot', expect.any(String)],
    ]);
  });

  it('refuses to refresh once the API key was deleted or expired', async () => {
    const { tokens, verifier } = await start();
    const session = await tokens.exchange(apikeyGrant('robot-key'));
    verifier.withdraw(robot.apikeyId);
    await rejection(tokens.exchange(refreshGrant(session.refresh_token)), 'INVALID_GRANT');
  });
});

describe('TokenService: signing key rotation', () => {
  it('signs with the new key at once; the old one verifies its tokens until the overlap ends, then leaves the JWKS', async () => {
    const started = await start({ accessTokenTtlSeconds: 3600, signingKeyOverlapSeconds: 3600 });
    const { tokens, clock, received, signingKeys } = started;
    const before = await tokens.exchange(apikeyGrant('admin-key'));
    const oldKid = kidOf(before.access_token);
    const rotatedAt = clock.nowMs();

    const rotation = await tokens.rotateSigningKey();
    expect(rotation).toEqual({ kid: expect.any(String), retiring: [oldKid] });
    expect(rotation.kid).not.toBe(oldKid);
    const after = await tokens.exchange(apikeyGrant('admin-key'));
    expect(kidOf(after.access_token)).toBe(rotation.kid);
    expect(await kids(started)).toEqual([rotation.kid, oldKid]);
    await expect.poll(() => received.filter((event) => event.type === 'com.sealbox.iam.signing-key.rotated').map((event) => event.data)).toEqual([
      { kid: oldKid },
      { kid: rotation.kid },
    ]);

    // The old key's last token lives an hour; the key stays in the JWKS that long (plus the re-check slack).
    const retireAt = rotatedAt + HOUR + ACTIVE_KEY_RECHECK_MS;
    expect((await signingKeys.findOneByOrFail({ kid: oldKid })).retireAt).toBe(retireAt);
    clock.advance(HOUR - SECOND);
    expect(await verifyWithJwks(tokens, before.access_token, nowSeconds(clock))).toMatchObject({ sub: 'admin' });
    clock.set(new Date(retireAt - 1));
    expect(await kids(started)).toEqual([rotation.kid, oldKid]);
    clock.set(new Date(retireAt));
    expect(await kids(started)).toEqual([rotation.kid]);
    // Even at a time the token was valid, its key can no longer be found.
    const gone = await rejection(verifyWithJwks(tokens, before.access_token, Math.floor(rotatedAt / 1000)), 'UNAUTHORIZED');
    expect(gone.message).toContain('unknown kid');
    await expect(verifyWithJwks(tokens, after.access_token, Math.floor(rotatedAt / 1000) + 10)).resolves.toMatchObject({ sub: 'admin' });
  });

  it('marks keys past their retire time retired at the next rotation', async () => {
    const started = await start({ signingKeyOverlapSeconds: 60 });
    const { tokens, clock, signingKeys } = started;
    const first = (await tokens.jwks()).keys[0]?.kid;
    const second = await tokens.rotateSigningKey();
    clock.advance(DAY);
    const third = await tokens.rotateSigningKey();
    expect(third.retiring).toEqual([second.kid]);
    const states = Object.fromEntries((await signingKeys.find()).map((row) => [row.kid, row.state]));
    expect(states).toEqual({ [first ?? '']: 'retired', [second.kid]: 'retiring', [third.kid]: 'active' });
    expect(await kids(started)).toEqual([third.kid, second.kid]);
  });
});

describe('TokenService: signing key storage', () => {
  it('stores the private key only sealed by the master key, bound to its kid', async () => {
    const { signingKeys, masterKey } = await start();
    const row = await signingKeys.findOneByOrFail({ state: 'active' });
    const sealed = Buffer.from(row.privateKeySealed, 'base64');
    const der = await masterKey.open(sealed, sealedKeyContext(row.kid));
    const { d } = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
    expect(d).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const secret = Buffer.from(d ?? '', 'base64url');
    expect(secret).toHaveLength(32);

    const stored = JSON.stringify(row);
    for (const clear of [d ?? '', secret.toString('base64'), secret.toString('hex'), der.toString('base64'), 'PRIVATE KEY']) {
      expect(stored).not.toContain(clear);
    }
    expect(sealed.includes(secret)).toBe(false);
    expect(sealed.includes(der)).toBe(false);
    expect(JSON.parse(row.publicJwk)).not.toHaveProperty('d');
    await expect(masterKey.open(sealed, sealedKeyContext('another-kid'))).rejects.toThrow(/failed authentication/);
  });
});
