import type { Server } from '@nestjs/microservices';
import type { Subject } from '@sealbox/contracts';
import { notImplemented } from '../errors/index.js';
import { consume } from './handler.js';

/**
 * Give every declared subject of a service an answer before the real handlers are registered: those
 * not implemented yet reply NOT_IMPLEMENTED instead of leaving the caller to time out. Real handlers
 * registered afterwards by Nest replace these.
 */
export function addNotImplementedHandlers(server: Pick<Server, 'addHandler'>, subjects: readonly Subject[]): void {
  for (const subject of subjects) {
    server.addHandler(subject, (data: unknown, ctx: unknown) =>
      consume(subject, data, ctx, async () => {
        throw notImplemented(subject);
      }),
    );
  }
}
