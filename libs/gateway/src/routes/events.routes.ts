import { Controller, Get, Headers, Inject, Query, Req, Res, type OnModuleDestroy } from '@nestjs/common';
import { CLOUDEVENT_TYPE_PREFIX, CloudEvent, EVENT_STREAM_PATH, EventStreamQuery, eventTypesMatching, type EventName } from '@sealbox/contracts';
import { DomainError, rootLogger, validationFailed, type Caller, type EventFeed, type FedEvent } from '@sealbox/platform';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { once } from 'node:events';
import { CurrentCaller, RequiresAction } from '../auth/access.decorators.js';
import { Operation, Tag } from '../openapi/operation.js';
import { checked, queryOf } from './body.js';

export const EVENT_FEED = Symbol('sealbox:gateway:event-feed');

/** A comment line every so often keeps proxies and clients from closing an idle stream. */
export const EVENT_STREAM_HEARTBEAT_MS = 15_000;

/** What the route reads of Fastify's request and reply: the raw Node objects, once the reply is taken over. */
interface StreamRequest {
  readonly raw: IncomingMessage;
}
interface StreamReply {
  hijack(): unknown;
  readonly raw: ServerResponse;
}

/** An event the caller may see: one of its own account (events that name no account are the operator's). */
function visibleTo(caller: Caller, event: CloudEvent, names: ReadonlySet<EventName> | undefined): boolean {
  const data = event.data as { accountId?: unknown } | null;
  if (typeof data !== 'object' || data === null || data.accountId !== caller.accountId) return false;
  if (!names) return true;
  const type = event.type.startsWith(`${CLOUDEVENT_TYPE_PREFIX}.`) ? event.type.slice(CLOUDEVENT_TYPE_PREFIX.length + 1) : event.type;
  return (names as ReadonlySet<string>).has(type);
}

/** One Server-Sent Event: the cursor as its id, the CloudEvent as its data (one line of JSON). */
export const sseFrame = (fed: FedEvent): string => `id: ${fed.cursor}\ndata: ${JSON.stringify(fed.event)}\n\n`;

/**
 * The account's events over HTTP as Server-Sent Events, from JetStream (distributed) or the
 * in-process bus (standalone). A client resumes with `Last-Event-ID` (browsers' EventSource do it on
 * their own). Events carry ids and types, never secret material.
 */
@Tag('Events')
@Controller(EVENT_STREAM_PATH.slice(1))
export class EventsRoutes implements OnModuleDestroy {
  private readonly streams = new Set<AbortController>();

  constructor(@Inject(EVENT_FEED) private readonly feed: EventFeed) {}

  @Get()
  @RequiresAction('event-stream.event.read', () => ({ serviceName: 'event-stream' }))
  @Operation({
    summary: "Follow the account's events (Server-Sent Events: `id` is the cursor, `data` one CloudEvent as JSON)",
    description:
      'The stream stays open; a comment line comes every 15 s. Resume after a disconnection with the `Last-Event-ID` header (the last `id` received). Only events of the caller\'s account are sent.',
    query: EventStreamQuery,
    response: CloudEvent,
    responseType: 'text/event-stream',
  })
  async stream(
    @Query() query: unknown,
    @Headers('last-event-id') lastEventId: string | undefined,
    @CurrentCaller() caller: Caller,
    @Req() request: StreamRequest,
    @Res() reply: StreamReply,
  ): Promise<void> {
    const { type } = checked(EventStreamQuery, queryOf(query));
    let names: ReadonlySet<EventName> | undefined;
    if (type !== undefined && type.trim() !== '') {
      const matching = eventTypesMatching(type);
      if (matching.unknown.length) {
        throw validationFailed([{ field: 'type', message: `no event type starts with ${matching.unknown.join(', ')} (see the event catalog)` }]);
      }
      names = matching.names;
    }
    const stop = new AbortController();
    let events: AsyncIterable<FedEvent>;
    try {
      events = await this.feed.open({ ...(lastEventId ? { after: lastEventId } : {}), signal: stop.signal });
    } catch (error) {
      rootLogger().warn({ reason: error instanceof Error ? error.message : String(error) }, 'cannot open the event feed');
      throw new DomainError('SERVICE_UNAVAILABLE', 'The event stream is not available now; try again');
    }

    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    out.write('retry: 2000\n: following\n\n');
    this.streams.add(stop);
    request.raw.once('close', () => stop.abort());
    const heartbeat = setInterval(() => out.write(': keep-alive\n\n'), EVENT_STREAM_HEARTBEAT_MS);
    heartbeat.unref();
    void (async () => {
      try {
        for await (const fed of events) {
          if (!visibleTo(caller, fed.event, names)) continue;
          if (!out.write(sseFrame(fed))) await once(out, 'drain', { signal: stop.signal });
        }
      } catch (error) {
        if (!stop.signal.aborted) rootLogger().warn({ reason: error instanceof Error ? error.message : String(error) }, 'event stream ended by an error');
      } finally {
        clearInterval(heartbeat);
        this.streams.delete(stop);
        stop.abort();
        out.end();
      }
    })();
  }

  /** Open streams end before the HTTP server closes (it would wait for them). */
  onModuleDestroy(): void {
    for (const stream of this.streams) stream.abort();
  }
}
