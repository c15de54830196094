import {
  cloudEventType,
  eventSubject,
  EventTypes,
  type CloudEvent,
  type EventDataOf,
  type EventName,
  type AppName,
  type ServiceName,
} from '@sealbox/contracts';
import type { EntityManager } from 'typeorm';
import type { Clock } from '../time/clock.js';
import { injectTraceContext } from '../tracing/tracer.js';
import { orderedEventId } from './event-id.js';
import { OutboxEventEntity } from './outbox.entity.js';

/**
 * A CloudEvents 1.0 envelope for a registry event, validated against its schema, carrying the active
 * trace context. `source` is the emitting app.
 */
export function buildCloudEvent<E extends EventName>(
  source: AppName,
  name: E,
  data: EventDataOf<E>,
  at: Date,
  subject?: string,
): CloudEvent {
  const checked = EventTypes[name].data.parse(data);
  const traceparent = injectTraceContext({})['traceparent'];
  return {
    specversion: '1.0',
    // Sorts in recording order, which is the order the outbox relay publishes in.
    id: orderedEventId(at.getTime()),
    source: `/sealbox/${source}`,
    type: cloudEventType(name),
    ...(subject ? { subject } : {}),
    time: at.toISOString(),
    datacontenttype: 'application/json',
    data: checked,
    ...(traceparent ? { traceparent } : {}),
  };
}

/**
 * Records events in the same transaction as the state change they describe. Pass the transaction's
 * EntityManager: if the transaction rolls back, the event never existed.
 */
export class Outbox {
  constructor(
    private readonly service: ServiceName,
    private readonly clock: Clock,
    private readonly onRecorded: () => void = () => undefined,
  ) {}

  async record<E extends EventName>(
    manager: EntityManager,
    name: E,
    data: EventDataOf<E>,
    subject?: string,
  ): Promise<CloudEvent> {
    const now = this.clock.now();
    const event = buildCloudEvent(this.service, name, data, now, subject);
    await manager.insert(OutboxEventEntity, {
      id: event.id,
      subject: eventSubject(name),
      envelope: JSON.stringify(event),
      createdAt: now.getTime(),
      attempts: 0,
    });
    // The relay is nudged once the caller's transaction has had a chance to commit.
    setImmediate(this.onRecorded);
    return event;
  }
}
