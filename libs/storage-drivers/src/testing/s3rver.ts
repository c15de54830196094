/**
 * s3rver (an S3 server on the local filesystem; untyped CommonJS) for the medium tier: one server
 * per test file on a free port of 127.0.0.1 over a temp directory. Its limits: no multipart uploads, signatures never checked (only the
 * access key `S3RVER`), path style only with `localhost`.
 */
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MinioObjectStoreConfig } from '../config.js';

interface S3rverServer {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: { address: string; port: number; directory: string; silent: boolean }) => S3rverServer;

const require = createRequire(import.meta.url);

export interface RunningS3rver {
  /** A minio driver configuration for this server. */
  readonly config: MinioObjectStoreConfig;
  /** Stop the server (idempotent) and remove its directory. */
  stop(): Promise<void>;
}

export async function startS3rver(): Promise<RunningS3rver> {
  const directory = await mkdtemp(join(tmpdir(), 'sealbox-s3rver-'));
  const S3rver = require('s3rver') as S3rverConstructor;
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true });
  const address = await server.run();
  let stopped = false;
  return {
    config: {
      driver: 'minio',
      endpoint: `http://127.0.0.1:${address.port}`,
      accessKey: 'S3RVER',
      secretKey: 'S3RVER',
      region: 'us-east-1',
      pathStyle: true,
    },
    async stop() {
      if (!stopped) {
        stopped = true;
        await server.close();
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}
