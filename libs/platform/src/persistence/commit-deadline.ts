import type { EntitySubscriberInterface } from 'typeorm';
import { serviceUnavailable } from '../errors/domain-error.js';
import { deadlinePassed } from '../rpc/deadline.js';

/**
 * Time a commit and its reply need: a transaction that would commit this close to its request's
 * deadline is rolled back instead, since the answer would reach a caller that has already given up.
 */
export const COMMIT_MARGIN_MS = 10;

/**
 * A TypeORM subscriber on every service database: just before COMMIT, if the request this
 * transaction runs for has passed its deadline (the caller was answered 503 and may retry), it throws
 * SERVICE_UNAVAILABLE, so TypeORM rolls the transaction back. A caller that got a 503 does not later
 * find the work done by a replica that was frozen, slow, or waiting on a dependency. Transactions run
 * outside a request (migrations, the outbox relay, schedulers) have no deadline and are not affected.
 */
export class CommitDeadlineGuard implements EntitySubscriberInterface {
  constructor(private readonly service: string) {}

  beforeTransactionCommit(): void {
    if (deadlinePassed(Date.now() + COMMIT_MARGIN_MS)) {
      throw serviceUnavailable(`The ${this.service} service did not commit: the request's deadline passed`);
    }
  }
}
