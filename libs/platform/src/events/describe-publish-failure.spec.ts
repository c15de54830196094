import { JetStreamApiError } from '@nats-io/jetstream';
import { NoRespondersError, RequestError } from '@nats-io/transport-node';
import { EVENTS_STREAM } from '@sealbox/contracts';
import { describe, expect, it } from 'vitest';
import { describePublishFailure } from './jetstream.js';

const UNAVAILABLE = `the event stream ${EVENTS_STREAM} is unavailable (no JetStream server or stream leader answers; a cluster elects a new leader within seconds)`;

describe('describePublishFailure', () => {
  it('names the stream unavailable when nobody answers for it, however nats.js wraps that', () => {
    const noResponders = new RequestError('no responders', { cause: new NoRespondersError('$JS.API.STREAM.INFO.SEALBOX_EVENTS') });
    expect(describePublishFailure(noResponders)).toBe(UNAVAILABLE);
    // What a publish that met no responders throws: "jetstream is not enabled", caused by the above.
    expect(describePublishFailure(new Error('jetstream is not enabled', { cause: noResponders }))).toBe(UNAVAILABLE);
    expect(describePublishFailure(new JetStreamApiError({ code: 503, err_code: 10008, description: 'JetStream system temporarily unavailable' }))).toBe(UNAVAILABLE);
  });

  it('passes every other failure on as it is, whatever its text says', () => {
    expect(describePublishFailure(new Error('upstream answered 503 Service Unavailable'))).toBe('upstream answered 503 Service Unavailable');
    expect(describePublishFailure(new JetStreamApiError({ code: 400, err_code: 10060, description: 'expected stream does not match' }))).toBe('expected stream does not match');
    expect(describePublishFailure('closed')).toBe('closed');
  });
});
