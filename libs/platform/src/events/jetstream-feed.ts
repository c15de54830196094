import { DeliverPolicy, jetstream, type ConsumerMessages } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { CloudEvent, EVENTS_STREAM, EVENTS_SUBJECT_PREFIX } from '@sealbox/contracts';
import type { Logger } from 'pino';
import type { NatsConnectionConfig } from '../config/fragments.js';
import { natsConnectionOptions } from '../rpc/nats.js';
import type { EventFeed, FedEvent, FollowOptions } from './feed.js';
import { ensureEventsStream } from './jetstream.js';

/**
 * The distributed feed: each follower reads the JetStream stream SEALBOX_EVENTS with an ordered
 * consumer of its own (ephemeral: the server drops it when the follower goes). Cursors are stream
 * sequences; resuming after one starts at the next, as far back as the stream keeps events.
 */
export class JetStreamEventFeed implements EventFeed {
  private connection: Promise<NatsConnection> | undefined;

  constructor(
    private readonly nats: NatsConnectionConfig,
    private readonly name: string,
    private readonly logger: Logger,
  ) {}

  async open(options: FollowOptions): Promise<AsyncIterable<FedEvent>> {
    const nc = await this.connect();
    const after = options.after !== undefined && /^[0-9]{1,15}$/.test(options.after) ? Number(options.after) : undefined;
    const consumer = await jetstream(nc).consumers.get(EVENTS_STREAM, {
      filter_subjects: `${EVENTS_SUBJECT_PREFIX}.>`,
      ...(after === undefined ? { deliver_policy: DeliverPolicy.New } : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 }),
    });
    const messages = await consumer.consume();
    return this.follow(messages, options.signal);
  }

  private async *follow(messages: ConsumerMessages, signal: AbortSignal): AsyncGenerator<FedEvent> {
    const stop = () => void messages.close();
    if (signal.aborted) stop();
    signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const message of messages) {
        const event = CloudEvent.safeParse(message.json());
        if (!event.success) {
          this.logger.warn({ subject: message.subject }, 'the event stream holds a message that is not a CloudEvent');
          continue;
        }
        yield { cursor: String(message.seq), subject: message.subject, event: event.data };
      }
    } finally {
      signal.removeEventListener('abort', stop);
      await messages.close();
    }
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await (await connection.catch(() => undefined))?.close();
  }

  private connect(): Promise<NatsConnection> {
    this.connection ??= (async () => {
      const nc = await connect(natsConnectionOptions(this.nats, `${this.name}-events-feed`));
      await ensureEventsStream(nc);
      return nc;
    })().catch((error: unknown) => {
      this.connection = undefined;
      throw error;
    });
    return this.connection;
  }
}
