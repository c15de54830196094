import { cloudEventType, type EventName, type IamWire, type RequestOf, type ResponseOf } from '@sealbox/contracts';
import { DomainError, subjectMatches, type EventListener, type EventSubscriber, type RpcClient } from '@sealbox/platform';
import type { KeyObject } from 'node:crypto';

type FakeSubject = 'iam.jwks.get' | 'iam.revocation.list' | 'iam.authorize';

/**
 * A typed fake of the iam subjects the gateway's authentication and authorization ask: the JWKS (one
 * key, `k1`), the revocation list (paged by `pageSize`, `after` = the index of the next entry) and
 * decisions (`allowed`).
 */
export class FakeIam {
  published = true;
  available = true;
  allowed = true;
  jwksFetches = 0;
  listCalls = 0;
  decisions = 0;
  pageSize = 1000;
  readonly revocations: IamWire.Revocation[] = [];

  constructor(private readonly publicKey: KeyObject) {}

  async send<S extends FakeSubject>(subject: S, request: RequestOf<S>): Promise<ResponseOf<S>> {
    if (!this.available) throw new DomainError('SERVICE_UNAVAILABLE', 'The iam service cannot be reached');
    if (subject === 'iam.jwks.get') {
      this.jwksFetches++;
      const keys = this.published ? [{ ...this.publicKey.export({ format: 'jwk' }), kty: 'EC', kid: 'k1', alg: 'ES256', use: 'sig' }] : [];
      return { keys } as ResponseOf<S>;
    }
    if (subject === 'iam.authorize') {
      this.decisions++;
      return { allowed: this.allowed } as ResponseOf<S>;
    }
    this.listCalls++;
    const { after } = request as RequestOf<'iam.revocation.list'>;
    const from = after === undefined ? 0 : Number(after);
    const to = from + this.pageSize;
    const page: ResponseOf<'iam.revocation.list'> = {
      revocations: this.revocations.slice(from, to),
      ...(to < this.revocations.length ? { next: String(to) } : {}),
    };
    return page as ResponseOf<S>;
  }

  /** The fake as the client the gateway's classes take (they call only `send` with these subjects). */
  get rpc(): RpcClient {
    return this as unknown as RpcClient;
  }
}

/** An event subscriber that delivers synchronously when told, and says when it resumed. */
export class FakeEvents implements EventSubscriber {
  private readonly listeners = new Set<{ pattern: string; listener: EventListener }>();
  private readonly resumeListeners = new Set<() => void>();
  private emitted = 0;

  subscribe(pattern: string, listener: EventListener): () => void {
    const entry = { pattern, listener };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  onResume(listener: () => void): () => void {
    this.resumeListeners.add(listener);
    return () => this.resumeListeners.delete(listener);
  }

  /** Deliver `events.<name>` with `data` to every matching listener. */
  async emit(name: EventName, data: unknown): Promise<void> {
    const subject = `events.${name}`;
    const event = {
      specversion: '1.0' as const,
      id: `e-${++this.emitted}`,
      source: 'iam',
      type: cloudEventType(name),
      time: new Date(0).toISOString(),
      datacontenttype: 'application/json' as const,
      data,
    };
    for (const { pattern, listener } of this.listeners) if (subjectMatches(pattern, subject)) await listener(subject, event);
  }

  resume(): void {
    for (const listener of this.resumeListeners) listener();
  }
}

/** The error code a call fails with, `ok` when it succeeds (`unexpected` for anything but a DomainError). */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return error instanceof DomainError ? error.code : 'unexpected';
  }
}
