import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { EVENTS_STREAM } from '@sealbox/contracts';
import { CliError, ExitCode } from '../errors.js';
import type { EventSource, StreamedEvent, TailOptions } from './source.js';

/**
 * Where JetStream's replies come to the CLI: the `events` user of docker/nats.conf may subscribe to
 * this prefix only, never to `_INBOX.>` (which carries every service's replies).
 */
export const INBOX_PREFIX = '_INBOX.events';

/**
 * Follows the SEALBOX_EVENTS stream with an ordered consumer: ephemeral (the server removes it when
 * the CLI goes away), no acks, messages in stream order, recreated by the client after a gap.
 */
export const natsEventSource: EventSource = {
  async *tail(options: TailOptions): AsyncGenerator<StreamedEvent> {
    if (options.signal?.aborted) return;
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: options.servers.split(',').map((server) => server.trim()),
        ...(options.user ? { user: options.user } : {}),
        ...(options.pass ? { pass: options.pass } : {}),
        ...(options.tls ? { tls: { ...options.tls } } : {}),
        name: 'sealbox-cli-events-tail',
        inboxPrefix: INBOX_PREFIX,
        timeout: 5_000,
      });
    } catch (error) {
      throw new CliError(ExitCode.UNREACHABLE, `Cannot connect to NATS at ${options.servers}: ${error instanceof Error ? error.message : String(error)}`);
    }
    try {
      let consumer;
      try {
        consumer = await jetstream(nc).consumers.get(EVENTS_STREAM, {
          // One filter as `filter_subject` (NATS 2.9 has no `filter_subjects`; several need 2.10).
          filter_subjects: options.subjects.length === 1 ? (options.subjects[0] as string) : [...options.subjects],
          deliver_policy: options.fromStart ? DeliverPolicy.All : DeliverPolicy.New,
        });
      } catch (error) {
        throw new CliError(ExitCode.SERVER, `Cannot follow the JetStream stream ${EVENTS_STREAM} on ${options.servers}: ${error instanceof Error ? error.message : String(error)}`);
      }
      const messages = await consumer.consume();
      const stop = () => void messages.close();
      options.signal?.addEventListener('abort', stop, { once: true });
      options.onReady();
      try {
        for await (const message of messages) yield { subject: message.subject, text: message.string() };
      } finally {
        options.signal?.removeEventListener('abort', stop);
        await messages.close();
      }
    } finally {
      await nc.close();
    }
  },
};
