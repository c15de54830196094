import type { ServiceName } from '@sealbox/contracts';

export const LOGGER = Symbol('sealbox:logger');
export const EVENT_PUBLISHER = Symbol('sealbox:event-publisher');
export const EVENT_SUBSCRIBER = Symbol('sealbox:event-subscriber');

/** Each service's DataSource and Outbox have their own token, so one process can hold all of them. */
export const dataSourceToken = (service: ServiceName) => `sealbox:${service}:datasource`;
export const outboxToken = (service: ServiceName) => `sealbox:${service}:outbox`;
