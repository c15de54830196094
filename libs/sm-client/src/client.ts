/**
 * A small typed client for the Secrets Manager v2 API as Sealbox serves it
 * (`{serviceUrl}/secrets-manager/{instanceId}/api/v2/…`). Written from the wire format of IBM Cloud's
 * Secrets Manager v2 API (the official v2 SDK is not installable here; the shapes are in
 * `@sealbox/contracts`), and shaped
 * like it: one method per operation, query options in camelCase, bodies with IBM field names, each
 * answer `{status, headers, result}`.
 *
 * On the wire, like the IBM SDK: `Authorization: Bearer <token>` on every request, JSON bodies,
 * `application/merge-patch+json` for PATCH, unset query options omitted, arrays comma-joined, path
 * parameters through encodeURIComponent. Request bodies are NOT validated here (the server does that,
 * and tests must be able to send bad input); answers are parsed with the wire schemas, and a 2xx
 * answer of the wrong shape throws SecretsManagerResponseError. A non-2xx answer throws
 * SecretsManagerError. The pagers (`…All`) read `offset` out of `next.href` until `next` is absent.
 */
import { SecretsWire as W } from '@sealbox/contracts';
import type { z } from 'zod';
import { SecretsManagerError, SecretsManagerResponseError } from './errors.js';

/** Anything that hands out a bearer token (an IAM token cache, a test fixture). Asked before every request. */
export interface Authenticator {
  getToken(): Promise<string>;
}

interface CommonOptions {
  /** The gateway base URL, e.g. `http://127.0.0.1:8080`; a trailing `/` is dropped. */
  readonly serviceUrl: string;
  /** The Secrets Manager instance GUID. */
  readonly instanceId: string;
  /** Extra headers on every request. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Per-request timeout (default 30 s). */
  readonly timeoutMs?: number;
  /** The fetch to use (default: global fetch). */
  readonly fetch?: typeof fetch;
}
export type SecretsManagerClientOptions = CommonOptions &
  ({ readonly authenticator: Authenticator; readonly bearerToken?: never } | { readonly bearerToken: string; readonly authenticator?: never });

/** A successful answer. */
export interface SmResponse<T> {
  readonly status: number;
  readonly headers: Headers;
  readonly result: T;
}

export type QueryValue = string | number | boolean | readonly string[] | undefined;
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';

/** A request sent as given, for tests of bad input: nothing is validated and no status throws. */
export interface RawRequest {
  readonly method: HttpMethod;
  /** Path under `/api/v2`, starting with `/`, sent as given (encode parameters yourself). */
  readonly path: string;
  readonly query?: Readonly<Record<string, QueryValue>>;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Sent verbatim instead of `body` (e.g. malformed JSON). */
  readonly rawBody?: string;
  /** Default: application/merge-patch+json for PATCH, application/json otherwise (when there is a body). */
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}
export interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body as JSON (throws when it is not JSON). */
  json(): unknown;
}

export interface ListSecretsOptions {
  readonly offset?: number;
  readonly limit?: number;
  readonly sort?: W.SecretSort;
  readonly search?: string;
  /** Group ids (`default` allowed). */
  readonly groups?: readonly string[];
  readonly secretTypes?: readonly W.IbmSecretType[];
  readonly matchAllLabels?: readonly string[];
}
export interface ListLocksOptions {
  readonly offset?: number;
  readonly limit?: number;
  readonly sort?: W.LockSort;
  readonly search?: string;
}
export interface ListSecretsLocksOptions {
  readonly offset?: number;
  readonly limit?: number;
  readonly search?: string;
  readonly groups?: readonly string[];
}
export interface ListConfigurationsOptions {
  readonly offset?: number;
  readonly limit?: number;
  readonly sort?: string;
  readonly search?: string;
  readonly secretTypes?: readonly W.IbmSecretType[];
}
export interface CreateLocksOptions {
  readonly mode?: W.LockMode;
}
export interface DeleteLocksOptions {
  /** Lock names to delete; every lock of the version when omitted. */
  readonly name?: readonly string[];
}

export type SecretGroupPrototypeInput = z.input<typeof W.SecretGroupPrototype>;
export type SecretLockPrototypeInput = z.input<typeof W.SecretLockPrototype>;

const MERGE_PATCH = 'application/merge-patch+json';
const JSON_TYPE = 'application/json';
const USER_AGENT = `sealbox-sm-client/0.1.0 (lang=node.js; node.js=${process.version})`;
const DEFAULT_TIMEOUT_MS = 30_000;

/** `path\`/secrets/${id}\``: every parameter must be a non-empty string and is percent-encoded. */
function path(strings: TemplateStringsArray, ...params: readonly string[]): string {
  let out = strings[0] ?? '';
  params.forEach((param, index) => {
    if (typeof param !== 'string' || param === '') {
      throw new TypeError(`Path parameter ${index + 1} of ${strings.join('{}')} must be a non-empty string`);
    }
    out += encodeURIComponent(param) + (strings[index + 1] ?? '');
  });
  return out;
}

/** Unset values omitted, arrays comma-joined, booleans and numbers as text (the IBM SDK encoding). */
export function encodeQuery(query: Readonly<Record<string, QueryValue>> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    params.append(key, typeof value === 'object' ? value.join(',') : String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The `offset` of a `next.href`, or undefined when it has none. */
function offsetOf(href: string): number | undefined {
  let value: string | null;
  try {
    value = new URL(href, 'http://relative.invalid').searchParams.get('offset');
  } catch {
    return undefined;
  }
  return value !== null && /^[0-9]+$/.test(value) ? Number(value) : undefined;
}

interface Call {
  readonly method: HttpMethod;
  readonly path: string;
  readonly query?: Readonly<Record<string, QueryValue>>;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export class SecretsManagerClient {
  /** `{serviceUrl}/secrets-manager/{instanceId}/api/v2`. */
  readonly baseUrl: string;
  private readonly getToken: () => Promise<string>;
  private readonly fetchImpl: typeof fetch;
  private readonly extraHeaders: Readonly<Record<string, string>>;
  private readonly timeoutMs: number;

  constructor(options: SecretsManagerClientOptions) {
    let url: URL;
    try {
      url = new URL(options.serviceUrl);
    } catch {
      throw new TypeError(`serviceUrl is not a URL: ${options.serviceUrl}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('serviceUrl must be http or https');
    if (typeof options.instanceId !== 'string' || options.instanceId === '') throw new TypeError('instanceId must be a non-empty string');
    this.baseUrl = `${options.serviceUrl.replace(/\/$/, '')}/secrets-manager/${encodeURIComponent(options.instanceId)}/api/v2`;
    if (options.authenticator) {
      const authenticator = options.authenticator;
      this.getToken = () => authenticator.getToken();
    } else {
      const token = options.bearerToken;
      if (typeof token !== 'string' || token === '') throw new TypeError('bearerToken or authenticator is required');
      this.getToken = () => Promise.resolve(token);
    }
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.extraHeaders = options.headers ?? {};
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  // ---------- secret groups ----------

  async createSecretGroup(prototype: SecretGroupPrototypeInput): Promise<SmResponse<W.SecretGroup>> {
    return this.call({ method: 'POST', path: '/secret_groups', body: prototype }, W.SecretGroup);
  }

  async listSecretGroups(): Promise<SmResponse<W.SecretGroupCollection>> {
    return this.call({ method: 'GET', path: '/secret_groups' }, W.SecretGroupCollection);
  }

  async getSecretGroup(id: string): Promise<SmResponse<W.SecretGroup>> {
    return this.call({ method: 'GET', path: path`/secret_groups/${id}` }, W.SecretGroup);
  }

  /** Merge patch: `description: null` removes the description. */
  async updateSecretGroup(id: string, patch: W.SecretGroupPatch): Promise<SmResponse<W.SecretGroup>> {
    return this.call({ method: 'PATCH', path: path`/secret_groups/${id}`, body: patch }, W.SecretGroup);
  }

  async deleteSecretGroup(id: string): Promise<SmResponse<void>> {
    return this.callVoid({ method: 'DELETE', path: path`/secret_groups/${id}` });
  }

  // ---------- secrets ----------

  async createSecret(prototype: W.SecretPrototypeInput): Promise<SmResponse<W.Secret>> {
    return this.call({ method: 'POST', path: '/secrets', body: prototype }, W.Secret);
  }

  async listSecrets(options: ListSecretsOptions = {}): Promise<SmResponse<W.SecretMetadataPaginatedCollection>> {
    const query = {
      offset: options.offset,
      limit: options.limit,
      sort: options.sort,
      search: options.search,
      groups: options.groups,
      secret_types: options.secretTypes,
      match_all_labels: options.matchAllLabels,
    };
    return this.call({ method: 'GET', path: '/secrets', query }, W.SecretMetadataPaginatedCollection);
  }

  /** Every secret matching the options, page after page, until a page has no `next`. */
  async *listSecretsAll(options: ListSecretsOptions = {}): AsyncGenerator<W.SecretMetadata, void, undefined> {
    for await (const page of this.pages(options.offset, (offset) => this.listSecrets({ ...options, offset }))) yield* page.secrets;
  }

  async getSecret(id: string): Promise<SmResponse<W.Secret>> {
    return this.call({ method: 'GET', path: path`/secrets/${id}` }, W.Secret);
  }

  async getSecretMetadata(id: string): Promise<SmResponse<W.SecretMetadata>> {
    return this.call({ method: 'GET', path: path`/secrets/${id}/metadata` }, W.SecretMetadata);
  }

  /** Merge patch of the secret's metadata; which fields a type takes: SecretsWire.SecretMetadataPatches. */
  async updateSecretMetadata(id: string, patch: W.SecretMetadataPatch): Promise<SmResponse<W.SecretMetadata>> {
    return this.call({ method: 'PATCH', path: path`/secrets/${id}/metadata`, body: patch }, W.SecretMetadata);
  }

  /** Deletes every version, data and metadata. `forceDelete` only means something to IBM's custom_credentials. */
  async deleteSecret(id: string, options: { readonly forceDelete?: boolean } = {}): Promise<SmResponse<void>> {
    return this.callVoid({ method: 'DELETE', path: path`/secrets/${id}`, query: { force_delete: options.forceDelete } });
  }

  async getSecretByNameType(secretGroupName: string, secretType: W.IbmSecretType, name: string): Promise<SmResponse<W.Secret>> {
    return this.call({ method: 'GET', path: path`/secret_groups/${secretGroupName}/secret_types/${secretType}/secrets/${name}` }, W.Secret);
  }

  async createSecretAction(id: string, prototype: W.AnySecretActionPrototype): Promise<SmResponse<W.SecretAction>> {
    return this.call({ method: 'POST', path: path`/secrets/${id}/actions`, body: prototype }, W.SecretAction);
  }

  // ---------- versions ----------

  /** A new version (rotation); which fields a type takes: SecretsWire.SecretVersionPrototypes. */
  async createSecretVersion(secretId: string, prototype: W.SecretVersionPrototype): Promise<SmResponse<W.SecretVersion>> {
    return this.call({ method: 'POST', path: path`/secrets/${secretId}/versions`, body: prototype }, W.SecretVersion);
  }

  async listSecretVersions(secretId: string): Promise<SmResponse<W.SecretVersionMetadataCollection>> {
    return this.call({ method: 'GET', path: path`/secrets/${secretId}/versions` }, W.SecretVersionMetadataCollection);
  }

  /** `id` is a version id, `current` or `previous`. */
  async getSecretVersion(secretId: string, id: string): Promise<SmResponse<W.SecretVersion>> {
    return this.call({ method: 'GET', path: path`/secrets/${secretId}/versions/${id}` }, W.SecretVersion);
  }

  async getSecretVersionMetadata(secretId: string, id: string): Promise<SmResponse<W.SecretVersionMetadata>> {
    return this.call({ method: 'GET', path: path`/secrets/${secretId}/versions/${id}/metadata` }, W.SecretVersionMetadata);
  }

  async updateSecretVersionMetadata(secretId: string, id: string, patch: W.SecretVersionMetadataPatch): Promise<SmResponse<W.SecretVersionMetadata>> {
    return this.call({ method: 'PATCH', path: path`/secrets/${secretId}/versions/${id}/metadata`, body: patch }, W.SecretVersionMetadata);
  }

  /** Deletes the version's data; its metadata stays with `payload_available: false`. */
  async deleteSecretVersionData(secretId: string, id: string): Promise<SmResponse<void>> {
    return this.callVoid({ method: 'DELETE', path: path`/secrets/${secretId}/versions/${id}/secret_data` });
  }

  async createSecretVersionAction(secretId: string, id: string, prototype: W.AnySecretActionPrototype): Promise<SmResponse<W.SecretAction>> {
    return this.call({ method: 'POST', path: path`/secrets/${secretId}/versions/${id}/actions`, body: prototype }, W.SecretAction);
  }

  // ---------- tasks ----------

  async listSecretTasks(secretId: string): Promise<SmResponse<W.SecretTaskCollection>> {
    return this.call({ method: 'GET', path: path`/secrets/${secretId}/tasks` }, W.SecretTaskCollection);
  }

  async getSecretTask(secretId: string, id: string): Promise<SmResponse<W.SecretTask>> {
    return this.call({ method: 'GET', path: path`/secrets/${secretId}/tasks/${id}` }, W.SecretTask);
  }

  async replaceSecretTask(secretId: string, id: string, task: W.SecretTaskPrototype): Promise<SmResponse<W.SecretTask>> {
    return this.call({ method: 'PUT', path: path`/secrets/${secretId}/tasks/${id}`, body: task }, W.SecretTask);
  }

  async deleteSecretTask(secretId: string, id: string): Promise<SmResponse<void>> {
    return this.callVoid({ method: 'DELETE', path: path`/secrets/${secretId}/tasks/${id}` });
  }

  // ---------- locks ----------

  async listSecretsLocks(options: ListSecretsLocksOptions = {}): Promise<SmResponse<W.SecretsLocksPaginatedCollection>> {
    const query = { offset: options.offset, limit: options.limit, search: options.search, groups: options.groups };
    return this.call({ method: 'GET', path: '/secrets_locks', query }, W.SecretsLocksPaginatedCollection);
  }

  async *listSecretsLocksAll(options: ListSecretsLocksOptions = {}): AsyncGenerator<W.SecretLocks, void, undefined> {
    for await (const page of this.pages(options.offset, (offset) => this.listSecretsLocks({ ...options, offset }))) yield* page.secrets_locks;
  }

  async listSecretLocks(id: string, options: ListLocksOptions = {}): Promise<SmResponse<W.SecretLocksPaginatedCollection>> {
    return this.call({ method: 'GET', path: path`/secrets/${id}/locks`, query: lockQuery(options) }, W.SecretLocksPaginatedCollection);
  }

  async *listSecretLocksAll(id: string, options: ListLocksOptions = {}): AsyncGenerator<W.SecretLock, void, undefined> {
    for await (const page of this.pages(options.offset, (offset) => this.listSecretLocks(id, { ...options, offset }))) yield* page.locks;
  }

  /** Locks the secret's current version; a lock of the same name is replaced. */
  async createSecretLocksBulk(id: string, locks: readonly SecretLockPrototypeInput[], options: CreateLocksOptions = {}): Promise<SmResponse<W.SecretLocks>> {
    return this.call({ method: 'POST', path: path`/secrets/${id}/locks_bulk`, query: { mode: options.mode }, body: { locks } }, W.SecretLocks);
  }

  async deleteSecretLocksBulk(id: string, options: DeleteLocksOptions = {}): Promise<SmResponse<W.SecretLocks>> {
    return this.call({ method: 'DELETE', path: path`/secrets/${id}/locks_bulk`, query: { name: options.name } }, W.SecretLocks);
  }

  async listSecretVersionLocks(secretId: string, id: string, options: ListLocksOptions = {}): Promise<SmResponse<W.SecretLocksPaginatedCollection>> {
    return this.call(
      { method: 'GET', path: path`/secrets/${secretId}/versions/${id}/locks`, query: lockQuery(options) },
      W.SecretLocksPaginatedCollection,
    );
  }

  async *listSecretVersionLocksAll(secretId: string, id: string, options: ListLocksOptions = {}): AsyncGenerator<W.SecretLock, void, undefined> {
    const pages = this.pages(options.offset, (offset) => this.listSecretVersionLocks(secretId, id, { ...options, offset }));
    for await (const page of pages) yield* page.locks;
  }

  async createSecretVersionLocksBulk(
    secretId: string,
    id: string,
    locks: readonly SecretLockPrototypeInput[],
    options: CreateLocksOptions = {},
  ): Promise<SmResponse<W.SecretLocks>> {
    return this.call(
      { method: 'POST', path: path`/secrets/${secretId}/versions/${id}/locks_bulk`, query: { mode: options.mode }, body: { locks } },
      W.SecretLocks,
    );
  }

  async deleteSecretVersionLocksBulk(secretId: string, id: string, options: DeleteLocksOptions = {}): Promise<SmResponse<W.SecretLocks>> {
    return this.call(
      { method: 'DELETE', path: path`/secrets/${secretId}/versions/${id}/locks_bulk`, query: { name: options.name } },
      W.SecretLocks,
    );
  }

  // ---------- configurations ----------

  async createConfiguration(prototype: W.AnyConfigurationPrototype): Promise<SmResponse<W.Configuration>> {
    return this.call({ method: 'POST', path: '/configurations', body: prototype }, W.Configuration);
  }

  async listConfigurations(options: ListConfigurationsOptions = {}): Promise<SmResponse<W.ConfigurationPaginatedCollection>> {
    const query = { offset: options.offset, limit: options.limit, sort: options.sort, search: options.search, secret_types: options.secretTypes };
    return this.call({ method: 'GET', path: '/configurations', query }, W.ConfigurationPaginatedCollection);
  }

  async *listConfigurationsAll(options: ListConfigurationsOptions = {}): AsyncGenerator<W.Configuration, void, undefined> {
    for await (const page of this.pages(options.offset, (offset) => this.listConfigurations({ ...options, offset }))) yield* page.configurations;
  }

  async getConfiguration(name: string, configurationType?: string): Promise<SmResponse<W.Configuration>> {
    return this.call({ method: 'GET', path: path`/configurations/${name}`, headers: configurationHeader(configurationType) }, W.Configuration);
  }

  async updateConfiguration(name: string, patch: Readonly<Record<string, unknown>>, configurationType?: string): Promise<SmResponse<W.Configuration>> {
    return this.call(
      { method: 'PATCH', path: path`/configurations/${name}`, body: patch, headers: configurationHeader(configurationType) },
      W.Configuration,
    );
  }

  async deleteConfiguration(name: string, configurationType?: string): Promise<SmResponse<void>> {
    return this.callVoid({ method: 'DELETE', path: path`/configurations/${name}`, headers: configurationHeader(configurationType) });
  }

  async createConfigurationAction(
    name: string,
    prototype: W.AnyConfigurationActionPrototype,
    configurationType?: string,
  ): Promise<SmResponse<W.ConfigurationAction>> {
    return this.call(
      { method: 'POST', path: path`/configurations/${name}/actions`, body: prototype, headers: configurationHeader(configurationType) },
      W.ConfigurationAction,
    );
  }

  // ---------- Event Notifications ----------

  async createNotificationsRegistration(prototype: W.NotificationsRegistrationPrototype): Promise<SmResponse<W.NotificationsRegistration>> {
    return this.call({ method: 'POST', path: '/notifications/registration', body: prototype }, W.NotificationsRegistration);
  }

  async getNotificationsRegistration(): Promise<SmResponse<W.NotificationsRegistration>> {
    return this.call({ method: 'GET', path: '/notifications/registration' }, W.NotificationsRegistration);
  }

  async deleteNotificationsRegistration(): Promise<SmResponse<void>> {
    return this.callVoid({ method: 'DELETE', path: '/notifications/registration' });
  }

  async getNotificationsRegistrationTest(): Promise<SmResponse<void>> {
    return this.callVoid({ method: 'GET', path: '/notifications/registration/test' });
  }

  // ---------- transport ----------

  /** Sends a request as given and returns whatever comes back (for tests of bad input). */
  async send(request: RawRequest): Promise<RawResponse> {
    const body = request.rawBody ?? (request.body === undefined ? undefined : JSON.stringify(request.body));
    const contentType = body === undefined ? undefined : (request.contentType ?? (request.method === 'PATCH' ? MERGE_PATCH : JSON_TYPE));
    const response = await this.fetchImpl(`${this.baseUrl}${request.path}${encodeQuery(request.query)}`, {
      method: request.method,
      headers: {
        Accept: JSON_TYPE,
        'User-Agent': USER_AGENT,
        ...this.extraHeaders,
        ...(contentType === undefined ? {} : { 'Content-Type': contentType }),
        Authorization: `Bearer ${await this.getToken()}`,
        ...request.headers,
      },
      body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) as unknown };
  }

  private async exchange(call: Call): Promise<RawResponse> {
    const response = await this.send(call);
    if (response.status < 200 || response.status > 299) throw SecretsManagerError.fromResponse(response.status, response.text);
    return response;
  }

  private async call<S extends z.ZodType>(call: Call, schema: S): Promise<SmResponse<z.output<S>>> {
    const response = await this.exchange(call);
    let json: unknown;
    try {
      json = response.json();
    } catch {
      throw new SecretsManagerResponseError(`${call.method} ${call.path}: the ${response.status} answer is not JSON`, response.status, response.text);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
      throw new SecretsManagerResponseError(
        `${call.method} ${call.path}: the ${response.status} answer does not match the schema (${fields})`,
        response.status,
        json,
        parsed.error.issues,
      );
    }
    return { status: response.status, headers: response.headers, result: parsed.data };
  }

  private async callVoid(call: Call): Promise<SmResponse<void>> {
    const response = await this.exchange(call);
    return { status: response.status, headers: response.headers, result: undefined };
  }

  /**
   * Pages of a paginated list: the first at `offset`, then at the `offset` read from each `next.href`,
   * until a page has no `next`. A `next` that does not move forward is a server bug and throws (it
   * would otherwise loop forever).
   */
  private async *pages<P extends W.PaginatedCollection>(
    offset: number | undefined,
    fetchPage: (offset: number | undefined) => Promise<SmResponse<P>>,
  ): AsyncGenerator<P, void, undefined> {
    let next = offset;
    for (;;) {
      const { status, result: page } = await fetchPage(next);
      yield page;
      if (page.next === undefined) return;
      const following = offsetOf(page.next.href);
      if (following === undefined || following <= page.offset) {
        throw new SecretsManagerResponseError(`next.href ${page.next.href} does not move past offset ${page.offset}`, status, page);
      }
      next = following;
    }
  }
}

function lockQuery(options: ListLocksOptions): Record<string, QueryValue> {
  return { offset: options.offset, limit: options.limit, sort: options.sort, search: options.search };
}

function configurationHeader(configurationType: string | undefined): Record<string, string> | undefined {
  return configurationType === undefined ? undefined : { 'X-Sm-Accept-Configuration-Type': configurationType };
}
