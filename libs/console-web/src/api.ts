/**
 * The console's only way to the server: the public HTTP API of the same origin, with an IAM access
 * token that lives in this module's memory (never in localStorage, sessionStorage, a cookie or the
 * URL). The token is refreshed before it expires; signing out forgets it and the refresh token.
 */
import type { IamWire } from '@sealbox/contracts';

const APIKEY_GRANT = 'urn:ibm:params:oauth:grant-type:apikey';
/** Refresh this long before the access token expires. */
const REFRESH_MARGIN_MS = 60_000;

/** An answer of the API that is not a success, with the IBM error code and message it carried. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly trace?: string,
  ) {
    super(message);
  }
}

interface IbmErrorBody {
  readonly errors?: readonly { readonly code?: string; readonly message?: string }[];
  readonly trace?: string;
  /** Key Protect's error shape. */
  readonly resources?: readonly { readonly errorMsg?: string; readonly reasons?: readonly { readonly code?: string; readonly message?: string }[] }[];
}

/** The IBM error of a failed response: `{errors:[{code,message}]}`, or Key Protect's `{resources:[{reasons}]}`. */
export async function apiErrorOf(response: Response): Promise<ApiError> {
  let body: IbmErrorBody | undefined;
  try {
    body = (await response.json()) as IbmErrorBody;
  } catch {
    body = undefined;
  }
  const first = body?.errors?.[0];
  if (first?.code) return new ApiError(response.status, first.code, first.message ?? '', body?.trace);
  const reason = body?.resources?.[0]?.reasons?.[0];
  if (reason?.code) return new ApiError(response.status, reason.code, reason.message ?? body?.resources?.[0]?.errorMsg ?? '', body?.trace);
  return new ApiError(response.status, `HTTP_${response.status}`, response.statusText || 'The request failed');
}

/** Who is signed in, read from the access token's claims (the server checks the signature; this only displays). */
export interface Identity {
  readonly iamId: string;
  readonly accountId: string;
  readonly subType: string;
  readonly expiresAt: number;
}

function identityOf(accessToken: string): Identity {
  const [, payload = ''] = accessToken.split('.');
  const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
  const claims = JSON.parse(json) as Partial<IamWire.AccessTokenClaims>;
  return { iamId: claims.iam_id ?? '', accountId: claims.account?.bss ?? '', subType: claims.sub_type ?? '', expiresAt: (claims.exp ?? 0) * 1000 };
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

type Listener = (identity: Identity | undefined, reason?: string) => void;

/** One signed-in session: the token, its refresh, and typed calls to the API. */
export class Session {
  private accessToken: string | undefined;
  private refreshToken: string | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private current: Identity | undefined;
  private readonly listeners = new Set<Listener>();

  get identity(): Identity | undefined {
    return this.current;
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Exchange an API key for a token. The key itself is not kept. */
  async signIn(apikey: string): Promise<Identity> {
    return this.exchange(new URLSearchParams({ grant_type: APIKEY_GRANT, apikey }));
  }

  /** Forget the token and the refresh token; `reason` is shown on the sign-in page. */
  signOut(reason?: string): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    this.accessToken = undefined;
    this.refreshToken = undefined;
    this.current = undefined;
    for (const listener of this.listeners) listener(undefined, reason);
  }

  private async exchange(form: URLSearchParams): Promise<Identity> {
    const response = await fetch('/identity/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form,
      credentials: 'omit',
      cache: 'no-store',
    });
    if (!response.ok) throw await apiErrorOf(response);
    const token = (await response.json()) as IamWire.TokenResponse;
    this.accessToken = token.access_token;
    this.refreshToken = token.refresh_token;
    this.current = identityOf(token.access_token);
    this.scheduleRefresh(token.expires_in * 1000);
    for (const listener of this.listeners) listener(this.current);
    return this.current;
  }

  private scheduleRefresh(lifetimeMs: number): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    const delay = Math.max(5_000, lifetimeMs - REFRESH_MARGIN_MS);
    this.refreshTimer = setTimeout(() => void this.refresh(), delay);
  }

  /** Trade the refresh token for a new access token; a refusal signs out. */
  async refresh(): Promise<void> {
    const refreshToken = this.refreshToken;
    if (!refreshToken) return;
    try {
      await this.exchange(new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }));
    } catch (error) {
      this.signOut(error instanceof ApiError ? `Your session ended: ${error.code} ${error.message}` : 'Your session ended');
    }
  }

  /** The bearer header of the current token (for the event stream, which reads the body itself). */
  authorization(): string {
    if (!this.accessToken) throw new ApiError(401, 'UNAUTHORIZED', 'Not signed in');
    return `Bearer ${this.accessToken}`;
  }

  /** Call the API; a non-2xx answer throws its ApiError, a 401 also signs out. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = new URL(path, window.location.origin);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json', authorization: this.authorization(), ...options.headers };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(options.body);
    }
    const response = await fetch(url, { method, headers, body, credentials: 'omit', cache: 'no-store', signal: options.signal });
    if (!response.ok) {
      const error = await apiErrorOf(response);
      if (response.status === 401) this.signOut(`Signed out: ${error.code} ${error.message}`);
      throw error;
    }
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
