/** Whether this process can currently reach the other services. */
export interface TransportStatus {
  isConnected(): boolean;
  describe(): string;
}

export const TRANSPORT_STATUS = Symbol('sealbox:transport-status');

/** The in-process transport is always there. */
export const inProcessStatus: TransportStatus = { isConnected: () => true, describe: () => 'in-process' };
