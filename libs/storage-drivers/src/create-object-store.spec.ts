import { describe, expect, it } from 'vitest';
import { ObjectStoreConfigSchema } from './config.js';
import { createObjectStore } from './create-object-store.js';
import { FilesystemObjectStore } from './filesystem/filesystem-object-store.js';
import { MinioObjectStore } from './minio/minio-object-store.js';

const minio = { driver: 'minio', endpoint: 'http://127.0.0.1:9000', accessKey: 'access', secretKey: 'secret' } as const;

describe('createObjectStore', () => {
  it('builds the driver the configuration names, without I/O', () => {
    const s3 = createObjectStore(minio);
    expect(s3).toBeInstanceOf(MinioObjectStore);
    expect(s3.driver).toBe('minio');
    const files = createObjectStore({ driver: 'filesystem', root: '/nonexistent/sealbox/objects' });
    expect(files).toBeInstanceOf(FilesystemObjectStore);
    expect(files.driver).toBe('filesystem');
  });

  it('defaults the region and path style of the minio driver', () => {
    expect(ObjectStoreConfigSchema.parse(minio)).toEqual({ ...minio, region: 'us-east-1', pathStyle: true });
  });

  it.each([
    ['an unknown driver', { driver: 'gcs', root: '/x' }, 'driver'],
    ['a minio endpoint that is not a URL', { ...minio, endpoint: 'minio:9000' }, 'endpoint'],
    ['a minio endpoint of another protocol', { ...minio, endpoint: 'ftp://minio:9000' }, 'endpoint'],
    ['a minio endpoint with a path', { ...minio, endpoint: 'http://minio:9000/s3' }, 'endpoint'],
    ['an empty access key', { ...minio, accessKey: '' }, 'accessKey'],
    ['no secret key', { driver: 'minio', endpoint: 'http://minio:9000', accessKey: 'a' }, 'secretKey'],
    ['a filesystem driver without a root', { driver: 'filesystem', root: '' }, 'root'],
  ])('refuses %s, naming the setting', (_label, config, field) => {
    const parsed = ObjectStoreConfigSchema.safeParse(config);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.path.join('.'))).toContain(field);
    expect(() => createObjectStore(config as never)).toThrow();
  });
});
