import type { CloudEvent } from '@sealbox/contracts';
import { rootLogger } from '../logging/logger.js';

/** Port: where the outbox relay hands events. JetStream when distributed, in process in standalone. */
export interface EventPublisher {
  /** Resolves only once the broker has stored the event; `event.id` deduplicates retries. */
  publish(subject: string, event: CloudEvent): Promise<void>;
  /** Calls `listener` whenever the broker is reachable again after a disconnect (where the publisher can tell); returns the unsubscribe. */
  onReachable?(listener: () => void): () => void;
}

export type EventListener = (subject: string, event: CloudEvent) => void | Promise<void>;

/** Port: receiving events (cache invalidation and other reactions). */
export interface EventSubscriber {
  /** `pattern` is a NATS-style subject pattern (`events.iam.>`, `events.*.apikey.created`). */
  subscribe(pattern: string, listener: EventListener): () => void;
  /**
   * `listener` runs whenever subscriptions (re)start receiving: once a subscription is in place, and
   * after every reconnect. Events published before may have been missed, so state kept up to date
   * by events is reconciled then. Absent where nothing can be missed (the in-process bus).
   */
  onResume?(listener: () => void): () => void;
}

/** NATS subject wildcard match: `*` one token, `>` the rest. */
export function subjectMatches(pattern: string, subject: string): boolean {
  return tokensMatch(pattern.split('.'), subject.split('.'));
}

function tokensMatch(patternTokens: readonly string[], subjectTokens: readonly string[]): boolean {
  for (let index = 0; index < patternTokens.length; index++) {
    const token = patternTokens[index];
    if (token === '>') return subjectTokens.length > index;
    if (index >= subjectTokens.length) return false;
    if (token !== '*' && token !== subjectTokens[index]) return false;
  }
  return patternTokens.length === subjectTokens.length;
}

/** Run one listener; its failure is logged and stays its own (as with a separate NATS consumer). */
async function deliver(listener: EventListener, subject: string, text: string): Promise<void> {
  try {
    await listener(subject, JSON.parse(text) as CloudEvent);
  } catch (error) {
    rootLogger().error({ err: error, subject }, 'an event listener failed');
  }
}

/**
 * Publisher and subscriber in one process (standalone and tests). Listeners run asynchronously, each
 * on its own copy of the event; one that throws or rejects neither stops the others nor the process.
 */
export class InProcessEventBus implements EventPublisher, EventSubscriber {
  private readonly listeners = new Set<{ tokens: readonly string[]; listener: EventListener }>();

  async publish(subject: string, event: CloudEvent): Promise<void> {
    const tokens = subject.split('.');
    let text: string | undefined;
    for (const entry of this.listeners) {
      if (tokensMatch(entry.tokens, tokens)) {
        // Same round trip as the broker: listeners get a copy parsed from JSON (made once, when someone listens).
        const copy = (text ??= JSON.stringify(event));
        setImmediate(() => void deliver(entry.listener, subject, copy));
      }
    }
  }

  subscribe(pattern: string, listener: EventListener): () => void {
    const entry = { tokens: pattern.split('.'), listener };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }
}
