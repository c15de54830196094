import type { Observable } from 'rxjs';

/** Whether this process can currently reach the other services. */
export interface TransportStatus {
  isConnected(): boolean;
  describe(): string;
}

export const TRANSPORT_STATUS = Symbol('sealbox:transport-status');

/** The in-process transport is always there. */
export const inProcessStatus: TransportStatus = { isConnected: () => true, describe: () => 'in-process' };

/** Follows a Nest NATS client's status stream (`connected`, `disconnected`, `reconnecting`). */
export class NatsClientStatus implements TransportStatus {
  private current = 'connecting';
  constructor(status: Observable<string>) {
    status.subscribe((value) => {
      this.current = value;
    });
  }
  isConnected(): boolean {
    return this.current === 'connected';
  }
  describe(): string {
    return `nats ${this.current}`;
  }
}
