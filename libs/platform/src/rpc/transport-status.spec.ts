import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { inProcessStatus, NatsClientStatus } from './transport-status.js';

describe('transport status', () => {
  it('the in-process transport is always connected', () => {
    expect(inProcessStatus.isConnected()).toBe(true);
    expect(inProcessStatus.describe()).toBe('in-process');
  });

  it('follows the status stream of a NATS client', () => {
    const stream = new Subject<string>();
    const status = new NatsClientStatus(stream);
    expect(status.isConnected()).toBe(false);
    expect(status.describe()).toBe('nats connecting');
    stream.next('connected');
    expect(status.isConnected()).toBe(true);
    stream.next('disconnected');
    expect(status.isConnected()).toBe(false);
    expect(status.describe()).toBe('nats disconnected');
    stream.next('reconnecting');
    expect(status.describe()).toBe('nats reconnecting');
    stream.next('connected');
    expect(status.isConnected()).toBe(true);
  });
});
