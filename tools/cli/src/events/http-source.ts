import { EVENT_STREAM_PATH } from '@sealbox/contracts';
import { CliError, ExitCode } from '../errors.js';
import type { Gateway } from '../http.js';
import type { CliIo } from '../io.js';
import type { StreamedEvent } from './source.js';
import { serverSentEvents } from './sse.js';

/** How long `events tail` waits before it reconnects after the stream ended (the gateway restarted…). */
export const RECONNECT_DELAY_MS = 2_000;

export interface HttpTailOptions {
  /** Event type prefixes, comma-separated (the `type` of `GET /v1/events`); all when undefined. */
  readonly types: string | undefined;
  /** From the oldest event the server still has. */
  readonly fromStart: boolean;
  readonly onReady: () => void;
  readonly signal?: AbortSignal;
}

/**
 * The account's events from the gateway's `GET /v1/events` (Server-Sent Events), in standalone and
 * distributed deployments alike. When the stream ends or breaks, it reconnects after 2 s, resuming
 * after the last event received (`Last-Event-ID`), until the signal aborts.
 */
export async function* httpEvents(gateway: Gateway, io: CliIo, options: HttpTailOptions): AsyncGenerator<StreamedEvent> {
  const stop = new AbortController();
  const abort = () => stop.abort();
  options.signal?.addEventListener('abort', abort, { once: true });
  // `0` is before every cursor: the server starts at the oldest event it keeps.
  let last: string | undefined = options.fromStart ? '0' : undefined;
  let connected = false;
  try {
    while (!stop.signal.aborted) {
      let response: Response;
      try {
        response = await gateway.stream(EVENT_STREAM_PATH, { type: options.types }, { accept: 'text/event-stream', ...(last !== undefined ? { 'last-event-id': last } : {}) }, stop.signal);
      } catch (error) {
        // The first connection's failure is the command's; later ones are waited out.
        if (stop.signal.aborted) return;
        if (!connected || !(error instanceof CliError) || error.exitCode !== ExitCode.UNREACHABLE) throw error;
        await io.sleep(RECONNECT_DELAY_MS);
        continue;
      }
      if (!connected) options.onReady();
      connected = true;
      try {
        for await (const event of serverSentEvents(response.body as unknown as AsyncIterable<Uint8Array>)) {
          if (event.id !== undefined) last = event.id;
          yield { subject: '', text: event.data };
        }
      } catch {
        // A connection that broke: reconnected below, after the last event received.
      }
      if (stop.signal.aborted) return;
      io.stderr.write('The event stream ended; reconnecting…\n');
      await io.sleep(RECONNECT_DELAY_MS);
    }
  } finally {
    options.signal?.removeEventListener('abort', abort);
    stop.abort();
  }
}
