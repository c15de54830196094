import { describe, expect, it } from 'vitest';
import {
  CLOUDEVENT_TYPE_PREFIX,
  CloudEvent,
  cloudEventType,
  EVENTS_STREAM,
  EVENTS_SUBJECT_PREFIX,
  EventTypes,
  eventSubject,
  isEventName,
  type EventName,
} from './events.js';
import { AppNames } from './services.js';

const eventNames = Object.keys(EventTypes) as EventName[];
const WIRE_NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;

describe('event registry', () => {
  it('declares the stream and the prefixes external subscribers bind to', () => {
    expect(EVENTS_STREAM).toBe('SEALBOX_EVENTS');
    expect(EVENTS_SUBJECT_PREFIX).toBe('events');
    expect(CLOUDEVENT_TYPE_PREFIX).toBe('com.sealbox');
  });

  it.each(eventNames)('%s is published by an app, and its name starts with that app (or is an audit record)', (name) => {
    const { source } = EventTypes[name];
    expect(AppNames).toContain(source);
    // Audit records (`audit.*`) are one category whoever writes them, so subscribers bind one
    // consumer to `events.audit.>`; every other event is named after its source.
    const prefix = name.split('.')[0];
    expect(prefix === 'audit' ? 'audit' : source).toBe(prefix);
  });

  it('audit records are the only events not named after their source', () => {
    const foreign = eventNames.filter((name) => !name.startsWith(`${EventTypes[name].source}.`));
    expect(foreign.every((name) => name.startsWith('audit.'))).toBe(true);
  });

  it.each(eventNames)('%s is a plain subject under events.> with a summary and a data schema', (name) => {
    expect(name).toMatch(WIRE_NAME);
    expect(eventSubject(name)).toBe(`events.${name}`);
    expect(cloudEventType(name)).toBe(`com.sealbox.${name}`);
    expect(EventTypes[name].summary.trim()).not.toBe('');
    expect(typeof EventTypes[name].data.safeParse).toBe('function');
  });

  it('event data schemas reject a payload missing a field', () => {
    const created = EventTypes['iam.apikey.created'].data;
    const data = { accountId: 'a', apikeyId: 'k', iamId: 'i', name: 'ci', createdBy: 'IBMid-1' };
    expect(created.parse(data)).toEqual(data);
    expect(created.safeParse({ accountId: 'a', apikeyId: 'k', iamId: 'i', name: 'ci' }).success).toBe(false);
  });

  it('isEventName accepts declared events only, not inherited property names', () => {
    expect(isEventName('iam.account.created')).toBe(true);
    expect(isEventName('iam.account.deleted')).toBe(false);
    expect(isEventName('toString')).toBe(false);
    expect(isEventName('events.iam.account.created')).toBe(false);
  });
});

describe('CloudEvent envelope', () => {
  const envelope = {
    specversion: '1.0',
    id: '5f0c2b1e-0000-4000-8000-000000000001',
    source: '/sealbox/iam',
    type: cloudEventType('iam.account.created'),
    time: '2026-01-01T00:00:00.000Z',
    datacontenttype: 'application/json',
    data: { accountId: 'a', adminIamId: 'i' },
  };

  it('accepts a CloudEvents 1.0 JSON envelope, with or without trace context', () => {
    expect(CloudEvent.parse(envelope)).toEqual(envelope);
    const traced = { ...envelope, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
    expect(CloudEvent.parse(traced)).toEqual(traced);
  });

  it.each([
    ['another spec version', { ...envelope, specversion: '0.3' }],
    ['an empty id', { ...envelope, id: '' }],
    ['another content type', { ...envelope, datacontenttype: 'text/plain' }],
    ['no source', { ...envelope, source: undefined }],
  ])('rejects %s', (_, candidate) => {
    expect(CloudEvent.safeParse(candidate).success).toBe(false);
  });
});
