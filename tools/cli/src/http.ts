import { IamWire } from '@sealbox/contracts';
import { SecretsManagerError } from '@sealbox/sm-client';
import { readSession, writeSession, type StoredSession } from './config.js';
import { CliError, ExitCode, notLoggedIn } from './errors.js';

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path and query string are built from `path` (already encoded) and `query`. */
  readonly path: string;
  readonly query?: Query;
  readonly json?: unknown;
  readonly form?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  /** Content type of a JSON body (default application/json). */
  readonly contentType?: string;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  /** The JSON body, or undefined when empty. */
  readonly body: unknown;
}

const TIMEOUT_MS = 30_000;
/** Refresh the access token when it has less than this left. */
const REFRESH_MARGIN_S = 60;

/** A failed HTTP answer as the CLI reports it: the IBM error body's code and message, exit code 1 (3 for a 401). */
export function serverError(error: SecretsManagerError): CliError {
  const exitCode = error.status === 401 ? ExitCode.NOT_LOGGED_IN : ExitCode.SERVER;
  const hint = error.status === 401 ? ' Run: sealbox login --apikey KEY' : '';
  return new CliError(exitCode, `${error.code}: ${error.message} (HTTP ${error.status}).${hint}`, {
    code: error.code,
    status: error.status,
    ...(error.trace ? { trace: error.trace } : {}),
  });
}

const unreachable = (endpoint: string, error: unknown): CliError => {
  const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
  return new CliError(ExitCode.UNREACHABLE, `Cannot reach ${endpoint}: ${cause}`);
};

/** One HTTP exchange with the gateway; a non-2xx answer throws the server's error (a SecretsManagerError, the IBM error body parsed). */
export async function send(fetchImpl: typeof fetch, endpoint: string, request: HttpRequest, token?: string): Promise<HttpAnswer> {
  const url = new URL(`${endpoint.replace(/\/$/, '')}${request.path}`);
  for (const [key, value] of Object.entries(request.query ?? {})) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'sealbox-cli/0.1.0', ...request.headers };
  if (token) headers['authorization'] = `Bearer ${token}`;
  let body: string | undefined;
  if (request.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(request.form).toString();
  } else if (request.json !== undefined) {
    headers['content-type'] = request.contentType ?? 'application/json';
    body = JSON.stringify(request.json);
  }
  let response: Response;
  let text: string;
  try {
    response = await fetchImpl(url, { method: request.method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(TIMEOUT_MS) });
    text = await response.text();
  } catch (error) {
    throw unreachable(endpoint, error);
  }
  if (!response.ok) throw serverError(SecretsManagerError.fromResponse(response.status, text));
  let parsed: unknown;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new CliError(ExitCode.SERVER, `The gateway answered ${response.status} with a body that is not JSON`);
    }
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** `POST /identity/token` (form-encoded, as IAM takes it): an API key or a refresh token for tokens. */
export async function exchangeToken(
  fetchImpl: typeof fetch,
  endpoint: string,
  grant: { readonly apikey: string } | { readonly refreshToken: string },
): Promise<IamWire.TokenResponse> {
  const form: Record<string, string> =
    'apikey' in grant
      ? { grant_type: IamWire.APIKEY_GRANT, apikey: grant.apikey }
      : { grant_type: 'refresh_token', refresh_token: grant.refreshToken };
  const answer = await send(fetchImpl, endpoint, { method: 'POST', path: '/identity/token', form });
  const tokens = IamWire.TokenResponse.safeParse(answer.body);
  if (!tokens.success) throw new CliError(ExitCode.SERVER, 'The gateway answered /identity/token without tokens');
  return tokens.data;
}

/** What an access token says about its holder (decoded for display only: the gateway verifies it). */
export function tokenIdentity(accessToken: string): { iam_id?: string; account_id?: string } {
  try {
    const payload = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as unknown;
    const claims = IamWire.AccessTokenClaims.partial().safeParse(payload);
    if (!claims.success) return {};
    return { ...(claims.data.iam_id ? { iam_id: claims.data.iam_id } : {}), ...(claims.data.account?.bss ? { account_id: claims.data.account.bss } : {}) };
  } catch {
    return {};
  }
}

export function sessionFromTokens(endpoint: string, tokens: IamWire.TokenResponse): StoredSession {
  return {
    endpoint,
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    expiration: tokens.expiration,
    ...tokenIdentity(tokens.access_token),
  };
}

/**
 * The logged-in gateway: every request carries the stored access token, refreshed (and stored again)
 * when it has less than a minute left, or once after a 401.
 */
export class Gateway {
  private session: StoredSession;

  constructor(
    private readonly configDir: string,
    private readonly fetchImpl: typeof fetch,
    private readonly nowMs: () => number,
  ) {
    const session = readSession(configDir);
    if (!session) throw notLoggedIn();
    this.session = session;
  }

  get endpoint(): string {
    return this.session.endpoint;
  }

  /** The account of the logged-in identity (from its token), for calls that name it. */
  get accountId(): string {
    if (!this.session.account_id) throw notLoggedIn('The stored session names no account. Run: sealbox login --apikey KEY');
    return this.session.account_id;
  }

  /** A valid access token (for clients that take an authenticator, like the SM client). */
  async token(): Promise<string> {
    if (this.session.expiration - REFRESH_MARGIN_S <= Math.floor(this.nowMs() / 1000)) await this.refresh();
    return this.session.access_token;
  }

  /**
   * A GET whose body is read as it arrives (an event stream): the answer when it is a 2xx, else the
   * server's error; no timeout but `signal`.
   */
  async stream(path: string, query: Query, headers: Readonly<Record<string, string>>, signal: AbortSignal): Promise<Response> {
    const open = async (): Promise<Response> => {
      const url = new URL(`${this.endpoint.replace(/\/$/, '')}${path}`);
      for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
      try {
        return await this.fetchImpl(url, { headers: { ...headers, 'user-agent': 'sealbox-cli/0.1.0', authorization: `Bearer ${await this.token()}` }, signal });
      } catch (error) {
        throw unreachable(this.endpoint, error);
      }
    };
    let response = await open();
    if (response.status === 401) {
      await response.body?.cancel();
      await this.refresh();
      response = await open();
    }
    if (!response.ok) throw serverError(SecretsManagerError.fromResponse(response.status, await response.text()));
    return response;
  }

  async request(request: HttpRequest): Promise<HttpAnswer> {
    const token = await this.token();
    try {
      return await send(this.fetchImpl, this.endpoint, request, token);
    } catch (error) {
      if (!(error instanceof CliError) || error.details.status !== 401) throw error;
    }
    await this.refresh();
    return send(this.fetchImpl, this.endpoint, request, this.session.access_token);
  }

  private async refresh(): Promise<void> {
    let tokens: IamWire.TokenResponse;
    try {
      tokens = await exchangeToken(this.fetchImpl, this.endpoint, { refreshToken: this.session.refresh_token });
    } catch (error) {
      if (error instanceof CliError && error.details.status !== undefined && error.details.status >= 400 && error.details.status < 500) {
        throw notLoggedIn(`The session expired (${error.details.code ?? 'refresh refused'}). Run: sealbox login --apikey KEY`);
      }
      throw error;
    }
    this.session = sessionFromTokens(this.endpoint, tokens);
    writeSession(this.configDir, this.session);
  }
}
