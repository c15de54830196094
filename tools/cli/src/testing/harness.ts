/**
 * The CLI's unit test harness: a capture server as the gateway, a fresh config folder per test, a
 * manual clock, and `cli(argv)` running the CLI in process with fake terminal I/O. Every run checks
 * that no token or login API key was printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KmsWire, LifecycleWire, SecretsWire } from '@sealbox/contracts';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { CaptureServer, type CannedReply, type CapturedRequest } from '../../../../libs/sm-client/src/testing/capture-server.js';
import { run } from '../cli.js';
import { writeSession, type StoredSession } from '../config.js';
import type { EventSource, TailOptions } from '../events/source.js';
import type { CliIo } from '../io.js';

export type { CannedReply, CapturedRequest };

// ---------- fixtures ----------

export const NOW_S = 1_800_000_000;
export const GUID = '0b6f0c4e-6a51-4b5e-9d7e-6f1a2b3c4d5e';
export const KMS_GUID = '7d1c9a40-2b7e-4c55-8f0a-1e2d3c4b5a69';
export const RECLAMATION_ID = 'b2a4c6e8-1357-4abc-9def-0123456789ab';
export const CRN = `crn:v1:sealbox:public:secrets-manager:us-south:a/acc-1:${GUID}::`;

/** A JWT-shaped token (the CLI only decodes its claims for display). */
export function accessToken(tag: string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'ES256', kid: 'k1' })}.${part({ iam_id: 'IBMid-admin', account: { bss: 'acc-1' }, tag })}.sig-${tag}`;
}
export const TOKEN_1 = accessToken('one');
export const TOKEN_2 = accessToken('two');
export const REFRESH_1 = 'refresh-token-one-never-printed';
export const REFRESH_2 = 'refresh-token-two-never-printed';
export const APIKEY = 'apikey-value-never-printed';
/** No command may ever write one of these. */
export const NEVER_PRINTED = [TOKEN_1, TOKEN_2, REFRESH_1, REFRESH_2, APIKEY];

export const tokens = (access: string, refresh: string, expiration = NOW_S + 3600) => ({
  access_token: access,
  refresh_token: refresh,
  token_type: 'Bearer',
  expires_in: 3600,
  expiration,
  scope: 'ibm openid',
});

export function instance(overrides: Partial<LifecycleWire.ResourceInstance> = {}): LifecycleWire.ResourceInstance {
  return {
    id: CRN,
    guid: GUID,
    crn: CRN,
    url: `/v2/resource_instances/${GUID}`,
    name: 'my-sm',
    region_id: 'us-south',
    account_id: 'acc-1',
    resource_plan_id: 'secrets-manager-standard',
    resource_group_id: 'default',
    resource_id: 'secrets-manager',
    type: 'service_instance',
    state: 'active',
    locked: false,
    allow_cleanup: false,
    created_at: '2027-01-15T08:00:00.000Z',
    created_by: 'IBMid-admin',
    updated_at: '2027-01-15T08:00:00.000Z',
    plan_history: [{ resource_plan_id: 'secrets-manager-standard', start_date: '2027-01-15T08:00:00.000Z' }],
    ...overrides,
  };
}

export function reclamation(overrides: Partial<LifecycleWire.Reclamation> = {}): LifecycleWire.Reclamation {
  return {
    id: RECLAMATION_ID,
    entity_id: GUID,
    entity_type_id: 'service_instance',
    entity_crn: CRN,
    resource_instance_id: GUID,
    resource_group_id: 'default',
    account_id: 'acc-1',
    policy_id: 'secrets-manager-standard',
    state: 'SCHEDULED',
    target_time: '2027-01-22T08:00:00.000Z',
    created_at: '2027-01-15T08:00:00.000Z',
    created_by: 'IBMid-admin',
    updated_at: '2027-01-15T08:00:00.000Z',
    updated_by: 'IBMid-admin',
    ...overrides,
  };
}

export function key(overrides: Partial<KmsWire.Key> = {}): KmsWire.Key {
  return {
    type: 'application/vnd.ibm.kms.key+json',
    id: 'a1b2c3d4-0000-4000-8000-000000000001',
    name: 'root-1',
    aliases: [],
    state: 1,
    crn: `crn:v1:sealbox:public:kms:us-south:a/acc-1:${KMS_GUID}:key:a1b2c3d4-0000-4000-8000-000000000001`,
    extractable: false,
    imported: false,
    algorithmType: 'AES',
    keyRingID: 'default',
    creationDate: '2027-01-15T08:00:00.000Z',
    createdBy: 'IBMid-admin',
    lastUpdateDate: '2027-01-15T08:00:00.000Z',
    keyVersion: { id: 'v1', creationDate: '2027-01-15T08:00:00.000Z' },
    dualAuthDelete: { enabled: false },
    deleted: false,
    ...overrides,
  };
}

export const keyCollection = (...keys: KmsWire.Key[]) => ({ metadata: { collectionType: 'application/vnd.ibm.kms.key+json', collectionTotal: keys.length }, resources: keys });

export function secret(): SecretsWire.Secret {
  return {
    secret_type: 'arbitrary',
    id: '5e0c7a1b-9d3f-4e2a-8b6c-1f0e9d8c7b6a',
    crn: `crn:v1:sealbox:public:secrets-manager:us-south:a/acc-1:${GUID}:secret:5e0c7a1b-9d3f-4e2a-8b6c-1f0e9d8c7b6a`,
    name: 'db-password',
    secret_group_id: 'default',
    labels: ['prod'],
    state: 1,
    state_description: 'active',
    created_at: '2027-01-15T08:00:00.000Z',
    created_by: 'IBMid-admin',
    updated_at: '2027-01-15T08:00:00.000Z',
    versions_total: 1,
    locks_total: 0,
    downloaded: true,
    payload: 'the-secret-payload',
  };
}

export const ibmError = (status: number, code: string, message: string): CannedReply => ({
  status,
  body: { errors: [{ code, message }], status_code: status, trace: '4bf92f3577b34da6a3ce929d0e0e4736' },
});


export type Route = (request: CapturedRequest) => CannedReply | undefined;

/** The state of the running test: its server, home and config folders, and clock. */
export const h = {
  server: undefined as unknown as CaptureServer,
  home: '',
  configHome: '',
  clockMs: 0,
};

/** Registers the harness's hooks in a test file (call once at its top level). */
export function useCliHarness(): void {
  beforeAll(async () => {
    h.server = await CaptureServer.start();
  });
  afterAll(() => h.server.close());
  beforeEach(() => {
    h.server.reset();
    h.home = mkdtempSync(join(tmpdir(), 'sealbox-cli-'));
    h.configHome = join(h.home, 'config');
    h.clockMs = NOW_S * 1000;
  });
  afterEach(() => rmSync(h.home, { recursive: true, force: true }));
}

/** Answers with the first route that answers; anything else is a 404 the test will notice. */
export function routes(...handlers: Route[]): void {
  h.server.respond((request) => handlers.reduce<CannedReply | undefined>((found, handler) => found ?? handler(request), undefined) ?? ibmError(404, 'NOT_FOUND', `no fake route for ${request.method} ${request.rawPath}`));
}
export const on =
  (method: string, path: string | RegExp, reply: (request: CapturedRequest) => CannedReply): Route =>
  (request) =>
    request.method === method && (typeof path === 'string' ? request.rawPath === path : path.test(request.rawPath)) ? reply(request) : undefined;
/** Answers a sequence: each request gets the next reply, the last one repeats. */
export const sequence = (...replies: CannedReply[]) => {
  let index = 0;
  return () => replies[Math.min(index++, replies.length - 1)] as CannedReply;
};

export class FakeEvents implements EventSource {
  options: TailOptions | undefined;
  constructor(private readonly texts: readonly string[]) {}
  async *tail(options: TailOptions) {
    this.options = options;
    options.onReady();
    for (const text of this.texts) yield { subject: 'events.x', text };
  }
}

export interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function cli(argv: readonly string[], extra: Partial<CliIo> = {}): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { XDG_CONFIG_HOME: h.configHome },
    homedir: h.home,
    fetch: globalThis.fetch,
    nowMs: () => h.clockMs,
    sleep: async (ms) => {
      h.clockMs += ms;
    },
    pollIntervalMs: 1_000,
    events: new FakeEvents([]),
    ...extra,
  };
  const code = await run(argv, io);
  for (const secretValue of NEVER_PRINTED) {
    expect(stdout, 'stdout').not.toContain(secretValue);
    expect(stderr, 'stderr').not.toContain(secretValue);
  }
  return { code, stdout, stderr };
}

export const sessionFile = () => join(h.configHome, 'sealbox', 'config.json');

export function login(overrides: Partial<StoredSession> = {}): void {
  const dir = join(h.configHome, 'sealbox');
  writeSession(dir, { endpoint: h.server.url, access_token: TOKEN_1, refresh_token: REFRESH_1, expiration: NOW_S + 3600, ...overrides });
}

export const bodyOf = (request: CapturedRequest | undefined): unknown => JSON.parse(request?.body ?? 'null');
export const requestsTo = (method: string, path: string) => h.server.requests.filter((request) => request.method === method && request.rawPath === path);

