/**
 * THE registry of event types published on JetStream (stream `SEALBOX_EVENTS`, subjects `events.>`).
 *
 * DO NOT RENAME: external subscribers bind durable consumers to these subjects. Every event is a
 * CloudEvents 1.0 JSON envelope whose `type` is `com.sealbox.<name>` and whose NATS subject is
 * `events.<name>`. Payloads never carry secret material, DEKs or tokens.
 */
import { z } from 'zod';
import type { ServiceName } from './services.js';

export const EVENTS_STREAM = 'SEALBOX_EVENTS';
export const EVENTS_SUBJECT_PREFIX = 'events';
export const CLOUDEVENT_TYPE_PREFIX = 'com.sealbox';

export interface EventDefinition<Svc extends ServiceName = ServiceName, Data extends z.ZodType = z.ZodType> {
  readonly source: Svc;
  readonly data: Data;
  readonly summary: string;
}

function event<Svc extends ServiceName, Data extends z.ZodType>(
  source: Svc,
  summary: string,
  data: Data,
): EventDefinition<Svc, Data> {
  return { source, summary, data };
}

export const EventTypes = {
  'iam.account.created': event(
    'iam',
    'An account and its administrator were created on first start',
    z.object({ accountId: z.string(), adminIamId: z.string() }),
  ),
  'iam.apikey.created': event(
    'iam',
    'An API key was created (the key value is never part of the event)',
    z.object({ accountId: z.string(), apikeyId: z.string(), iamId: z.string(), name: z.string() }),
  ),
} as const satisfies Record<string, EventDefinition>;

export type EventTypes = typeof EventTypes;
export type EventName = keyof EventTypes;
export type EventDataOf<E extends EventName> = z.output<EventTypes[E]['data']>;

export const eventSubject = (name: EventName) => `${EVENTS_SUBJECT_PREFIX}.${name}` as const;
export const cloudEventType = (name: EventName) => `${CLOUDEVENT_TYPE_PREFIX}.${name}` as const;

/** CloudEvents 1.0 structured JSON envelope. */
export const CloudEvent = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  subject: z.string().optional(),
  time: z.string(),
  datacontenttype: z.literal('application/json'),
  data: z.unknown(),
  /** W3C trace context of the request that caused the event (CloudEvents distributed tracing extension). */
  traceparent: z.string().optional(),
});
export type CloudEvent = z.infer<typeof CloudEvent>;

export function isEventName(value: string): value is EventName {
  return Object.hasOwn(EventTypes, value);
}
