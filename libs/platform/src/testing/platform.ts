import type { DynamicModule } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessEventBus } from '../events/publisher.js';
import { createLogger } from '../logging/index.js';
import { PlatformModule } from '../nest/platform.module.js';
import type { DatabaseConfig } from '../persistence/database.js';
import type { RpcClientProxy } from '../rpc/client.js';
import { InProcessBus, InProcessClient } from '../rpc/in-process.js';
import type { Clock } from '../time/clock.js';
import { createTestDatabase } from './postgres.js';

export interface TestPlatformOptions {
  /** Publisher and subscriber of the module (a fresh bus by default). */
  readonly events?: InProcessEventBus;
  readonly clock?: Clock;
  /** Where RPC calls go (a bus nobody serves by default). */
  readonly clientProxy?: RpcClientProxy;
  readonly rpcTimeoutMs?: number;
}

/** PlatformModule for tests: a silent logger, in-process events and RPC, an optional clock. */
export function testPlatformModule(options: TestPlatformOptions = {}): DynamicModule {
  const events = options.events ?? new InProcessEventBus();
  return PlatformModule.forRoot({
    logger: createLogger({ app: 'test', level: 'silent' }),
    clientProxy: options.clientProxy ?? new InProcessClient(new InProcessBus()),
    rpcTimeoutMs: options.rpcTimeoutMs ?? 1000,
    eventPublisher: events,
    eventSubscriber: events,
    ...(options.clock ? { clock: options.clock } : {}),
  });
}

export interface TestDatabase {
  readonly config: DatabaseConfig;
  cleanup(): Promise<void>;
}

/** The two databases every persistence suite runs on: a SQLite file in a temp dir, a fresh PostgreSQL database. */
export const testDatabases: readonly { readonly name: 'SQLite' | 'PostgreSQL'; open(): Promise<TestDatabase> }[] = [
  {
    name: 'SQLite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'sealbox-test-db-'));
      return { config: { type: 'sqlite', path: join(dir, 'test.sqlite') }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const database = await createTestDatabase();
      return { config: { type: 'postgres', url: database.url }, cleanup: () => database.drop() };
    },
  },
];
