/** The event stream `events tail` reads: JetStream in `nats-source.ts`, a fake in tests. */
export interface TailOptions {
  /** NATS server URL(s), comma-separated. */
  readonly servers: string;
  readonly user?: string;
  readonly pass?: string;
  /** TLS to NATS: the CA of the server's certificate, and a client certificate and key where the server verifies clients. */
  readonly tls?: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string };
  /** Subject filters on the events stream, e.g. `events.lifecycle.>`. */
  readonly subjects: readonly string[];
  /** From the first event the stream holds, instead of only new ones. */
  readonly fromStart: boolean;
  /** Called once the consumer exists: events published from now on are delivered. */
  readonly onReady: () => void;
  readonly signal?: AbortSignal;
}

export interface StreamedEvent {
  readonly subject: string;
  /** The message body: a CloudEvents JSON envelope. */
  readonly text: string;
}

export interface EventSource {
  tail(options: TailOptions): AsyncIterable<StreamedEvent>;
}
