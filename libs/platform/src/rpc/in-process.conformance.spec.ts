import { describeTransportConformance } from '../testing/transport-conformance.js';
import { InProcessBus, InProcessClient, InProcessServer } from './in-process.js';

describeTransportConformance('in-process', () => {
  const bus = new InProcessBus();
  return {
    server: () => new InProcessServer(bus),
    clientProxy: () => new InProcessClient(bus),
    close: async () => undefined,
  };
});
