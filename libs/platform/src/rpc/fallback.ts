import { RpcException, type Server } from '@nestjs/microservices';
import type { Subject } from '@sealbox/contracts';
import { throwError, type Observable } from 'rxjs';
import { notImplemented } from '../errors/index.js';
import { consume } from './handler.js';

/**
 * Give every declared subject of a service an answer before the real handlers are registered: those
 * not implemented yet reply NOT_IMPLEMENTED instead of leaving the caller to time out. Real handlers
 * registered afterwards by Nest replace these.
 */
export function addNotImplementedHandlers(server: Pick<Server, 'addHandler'>, subjects: readonly Subject[]): void {
  for (const subject of subjects) {
    server.addHandler(subject, async (data: unknown, ctx: unknown): Promise<Observable<never>> => {
      try {
        await consume(subject, data, ctx, async () => {
          throw notImplemented(subject);
        });
        throw notImplemented(subject);
      } catch (error) {
        // Nest's exception filters are not in front of a raw handler: reply with the wire error as
        // they would.
        const wire = error instanceof RpcException ? error.getError() : { code: 'INTERNAL', message: 'An internal error occurred' };
        return throwError(() => wire);
      }
    });
  }
}
