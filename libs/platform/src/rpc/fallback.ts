import type { Server } from '@nestjs/microservices';
import type { Subject } from '@sealbox/contracts';
import { notImplemented } from '../errors/index.js';
import type { RequestFrame } from './codec.js';
import { consume } from './handler.js';

/**
 * Give every declared subject of a service an answer before the real handlers are registered: those
 * not implemented yet reply NOT_IMPLEMENTED (after validating the payload, as a real handler would)
 * instead of leaving the caller to time out. Real handlers registered afterwards by Nest replace these.
 */
export function addNotImplementedHandlers(server: Pick<Server, 'addHandler'>, subjects: readonly Subject[]): void {
  for (const subject of subjects) {
    server.addHandler(subject, (frame: RequestFrame) =>
      consume(subject, frame.d, frame.h, async () => {
        throw notImplemented(subject);
      }),
    );
  }
}
