import {
  cloudEventType,
  eventSubject,
  EventTypes,
  type CloudEvent,
  type EventDataOf,
  type EventName,
  type ServiceName,
} from '@sealbox/contracts';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { Clock } from '../time/clock.js';
import { injectTraceContext } from '../tracing/tracer.js';
import { OutboxEventEntity } from './outbox.entity.js';

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
    const definition = EventTypes[name];
    const checked = definition.data.parse(data);
    const traceparent = injectTraceContext({})['traceparent'];
    const now = this.clock.now();
    const event: CloudEvent = {
      specversion: '1.0',
      id: randomUUID(),
      source: `/sealbox/${this.service}`,
      type: cloudEventType(name),
      ...(subject ? { subject } : {}),
      time: now.toISOString(),
      datacontenttype: 'application/json',
      data: checked,
      ...(traceparent ? { traceparent } : {}),
    };
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
