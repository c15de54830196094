import { DomainError } from '@sealbox/platform';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BUCKET_PREFIX, bucketNameFor, bucketNameProblem } from './bucket-names.js';

/**
 * S3's general purpose bucket naming rules, written out independently of bucketNameProblem
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
 */
function followsS3Rules(name: string): boolean {
  return (
    name.length >= 3 &&
    name.length <= 63 &&
    /^[a-z0-9.-]+$/.test(name) &&
    /^[a-z0-9]/.test(name) &&
    /[a-z0-9]$/.test(name) &&
    !name.includes('..') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
    !['xn--', 'sthree-', 'amzn-s3-demo-'].some((prefix) => name.startsWith(prefix)) &&
    !['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'].some((suffix) => name.endsWith(suffix))
  );
}

const EDGE_GUIDS = [
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
  '12345678-9abc-4def-8123-456789abcdef',
];

describe('bucketNameFor', () => {
  it.each([...EDGE_GUIDS, ...Array.from({ length: 50 }, () => randomUUID())])('gives %s a name that follows the S3 rules', (guid) => {
    const name = bucketNameFor(guid);
    expect(followsS3Rules(name)).toBe(true);
    expect(bucketNameProblem(name)).toBeUndefined();
    expect(name).toMatch(/^sbx-[0-9a-f]{32}$/);
    expect(name).toHaveLength(36);
    expect(name.startsWith(BUCKET_PREFIX)).toBe(true);
  });

  it('is the GUID without dashes, in lowercase: one instance, one bucket, whatever the case', () => {
    expect(bucketNameFor('3F2504E0-4F89-41D3-9A0C-0305E82C3301')).toBe('sbx-3f2504e04f8941d39a0c0305e82c3301');
    expect(bucketNameFor('3f2504e0-4f89-41d3-9a0c-0305e82c3301')).toBe('sbx-3f2504e04f8941d39a0c0305e82c3301');
  });

  it('never gives two instances one bucket', () => {
    const guids = Array.from({ length: 1000 }, () => randomUUID());
    expect(new Set(guids.map(bucketNameFor)).size).toBe(1000);
  });

  it.each(['', 'not-a-guid', '3f2504e04f8941d39a0c0305e82c3301', '3f2504e0-4f89-41d3-9a0c-0305e82c330', '3f2504e0-4f89-41d3-9a0c-0305e82c3301-x', '../../etc/passwd', 'g2504e0-4f89-41d3-9a0c-0305e82c3301'])(
    'refuses %j with VALIDATION_FAILED on instanceGuid',
    (value) => {
      let caught: unknown;
      try {
        bucketNameFor(value);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(DomainError);
      expect((caught as DomainError).code).toBe('VALIDATION_FAILED');
      expect((caught as DomainError).fields).toEqual([{ field: 'instanceGuid', message: 'must be an instance GUID' }]);
    },
  );
});

describe('bucketNameProblem (the S3 naming rules)', () => {
  it.each(['abc', 'a'.repeat(63), 'my-bucket', 'my.bucket.name', '1bucket', 'sbx-health-probe', '192.168.1', 'a-b.c-d'])('accepts %s', (name) => {
    expect(followsS3Rules(name)).toBe(true);
    expect(bucketNameProblem(name)).toBeUndefined();
  });

  it.each([
    ['ab', '3 to 63'],
    ['a'.repeat(64), '3 to 63'],
    ['My-Bucket', 'lowercase'],
    ['my_bucket', 'lowercase'],
    ['my bucket', 'lowercase'],
    ['-bucket', 'begin and end'],
    ['bucket-', 'begin and end'],
    ['.bucket', 'begin and end'],
    ['bucket.', 'begin and end'],
    ['my..bucket', 'adjacent dots'],
    ['192.168.1.10', 'IP address'],
    ['xn--bucket', 'xn--'],
    ['sthree-bucket', 'sthree-'],
    ['amzn-s3-demo-bucket', 'amzn-s3-demo-'],
    ['bucket-s3alias', '-s3alias'],
    ['bucket--ol-s3', '--ol-s3'],
    ['bucket.mrap', '.mrap'],
    ['bucket--x-s3', '--x-s3'],
    ['bucket--table-s3', '--table-s3'],
    ['a/b', 'lowercase'],
    ['..', '3 to 63'],
  ])('refuses %s (%s)', (name, reason) => {
    expect(followsS3Rules(name)).toBe(false);
    expect(bucketNameProblem(name)).toContain(reason);
  });
});
