import { Client } from 'minio';
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';

/** Where buckets live: an S3 server (MinIO, s3rver in tests) or a folder per bucket. */
export type ObjectStoreConfig =
  | {
      readonly driver: 'minio';
      readonly endpoint: string;
      readonly accessKey: string;
      readonly secretKey: string;
      readonly region: string;
      readonly pathStyle: boolean;
    }
  | { readonly driver: 'filesystem'; readonly root: string };

/** Reachability of the object store, for the health subject. */
export function objectStoreProbe(config: ObjectStoreConfig): () => Promise<void> {
  switch (config.driver) {
    case 'minio': {
      const url = new URL(config.endpoint);
      const client = new Client({
        endPoint: url.hostname,
        port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
        useSSL: url.protocol === 'https:',
        accessKey: config.accessKey,
        secretKey: config.secretKey,
        region: config.region,
        pathStyle: config.pathStyle,
      });
      return async () => {
        await client.listBuckets();
      };
    }
    case 'filesystem':
      return async () => {
        await mkdir(config.root, { recursive: true, mode: 0o700 });
        await access(config.root, constants.W_OK);
      };
  }
}
