/**
 * The account's events, live, from `GET /v1/events` (Server-Sent Events). EventSource cannot send
 * the bearer token in a header (and the token must not go in the URL), so the stream is read with
 * fetch and parsed here; it reconnects with Last-Event-ID after a drop.
 */
import type { CloudEvent } from '@sealbox/contracts';
import { useEffect, useState } from 'preact/hooks';
import { apiErrorOf, type Session } from '../api.js';
import { parseFrames } from '../sse.js';
import { EmptyState, ErrorBanner } from '../ui.js';

/** The newest events kept on the page. */
const MAX_EVENTS = 200;
const RECONNECT_MS = 2000;

/** Filters offered: prefixes of event types. */
const FILTERS: readonly { readonly value: string; readonly label: string }[] = [
  { value: '', label: 'All events' },
  { value: 'lifecycle.', label: 'Instances and reclamations' },
  { value: 'secrets.', label: 'Secrets' },
  { value: 'kms.', label: 'Keys' },
  { value: 'iam.', label: 'Identities and policies' },
  { value: 'audit.', label: 'Audit (every request)' },
];

export function EventsPage({ session }: { readonly session: Session }) {
  const [filter, setFilter] = useState('');
  const [events, setEvents] = useState<CloudEvent[]>([]);
  const [status, setStatus] = useState<'connecting' | 'live' | 'reconnecting'>('connecting');
  const [error, setError] = useState<unknown>();
  const [paused, setPaused] = useState(false);

  useEffect(() => {
    if (paused) return;
    const controller = new AbortController();
    let lastId: string | undefined;
    const connect = async (): Promise<void> => {
      while (!controller.signal.aborted) {
        try {
          const url = new URL('/v1/events', window.location.origin);
          if (filter) url.searchParams.set('type', filter);
          const response = await fetch(url, {
            headers: { accept: 'text/event-stream', authorization: session.authorization(), ...(lastId ? { 'last-event-id': lastId } : {}) },
            credentials: 'omit',
            cache: 'no-store',
            signal: controller.signal,
          });
          if (!response.ok || !response.body) {
            const failure = await apiErrorOf(response);
            if (response.status === 401 || response.status === 403 || response.status === 400) {
              setError(failure);
              return;
            }
            throw failure;
          }
          setStatus('live');
          setError(undefined);
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            const parsed = parseFrames(buffer + value);
            buffer = parsed.rest;
            const received: CloudEvent[] = [];
            for (const frame of parsed.frames) {
              if (frame.id) lastId = frame.id;
              try {
                received.push(JSON.parse(frame.data) as CloudEvent);
              } catch {
                // A frame that is not an event (none are sent) is skipped.
              }
            }
            if (received.length) setEvents((current) => [...received.reverse(), ...current].slice(0, MAX_EVENTS));
          }
        } catch (caught) {
          if (controller.signal.aborted) return;
          setError(caught);
        }
        setStatus('reconnecting');
        await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
      }
    };
    setStatus('connecting');
    void connect();
    return () => controller.abort();
  }, [filter, paused]);

  return (
    <section aria-labelledby="events-title">
      <div class="page-header">
        <h1 id="events-title">Events</h1>
        <span class="state" role="status">
          {paused ? 'paused' : status}
        </span>
      </div>
      <div class="toolbar">
        <label class="field">
          <span>Show</span>
          <select
            value={filter}
            onChange={(event) => {
              setFilter(event.currentTarget.value);
              setEvents([]);
            }}
          >
            {FILTERS.map((candidate) => (
              <option key={candidate.value} value={candidate.value}>
                {candidate.label}
              </option>
            ))}
          </select>
        </label>
        <button type="button" aria-pressed={paused} onClick={() => setPaused(!paused)}>
          {paused ? 'Resume' : 'Pause'}
        </button>
        <button type="button" onClick={() => setEvents([])}>
          Clear
        </button>
      </div>
      <ErrorBanner error={error} />
      {events.length === 0 ? (
        <EmptyState title="Waiting for events">Create, change or delete something (in another tab, or with the CLI or an SDK) and its events appear here as they happen.</EmptyState>
      ) : (
        <ul class="events-list panel" aria-live="polite" aria-label="Events, newest first">
          {events.map((event) => (
            <li key={event.id}>
              <span>{new Date(event.time).toLocaleString()}</span>
              <span class="mono">{event.type.replace(/^com\.sealbox\./, '')}</span>
              <span class="mono hint">{event.subject ?? summary(event.data)}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** A short line from an event's data: its ids and names (events carry no secret material). */
function summary(data: unknown): string {
  if (typeof data !== 'object' || data === null) return '';
  return Object.entries(data as Record<string, unknown>)
    .filter(([name, value]) => name !== 'accountId' && (typeof value === 'string' || typeof value === 'number'))
    .slice(0, 4)
    .map(([name, value]) => `${name}=${String(value)}`)
    .join(' ');
}
