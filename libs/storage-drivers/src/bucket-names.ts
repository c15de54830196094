import { StorageWire } from '@sealbox/contracts';
import { DomainError } from '@sealbox/platform';

/** Every Sealbox bucket starts with this, so an operator sees whose buckets they are. */
export const BUCKET_PREFIX = 'sbx-';

const IPV4_LIKE = /^\d{1,3}(\.\d{1,3}){3}$/;
const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

/**
 * Why a name breaks S3's general purpose bucket naming rules, or undefined when it follows them:
 * 3 to 63 characters of lowercase letters, digits, dots and hyphens; a letter or digit at both
 * ends; no two adjacent dots; not an IPv4 address; none of the reserved prefixes and suffixes.
 */
export function bucketNameProblem(name: string): string | undefined {
  if (typeof name !== 'string') return 'must be a string';
  if (name.length < 3 || name.length > 63) return 'must be 3 to 63 characters long';
  if (!/^[a-z0-9.-]+$/.test(name)) return 'may contain only lowercase letters, digits, dots and hyphens';
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return 'must begin and end with a letter or a digit';
  if (name.includes('..')) return 'must not contain two adjacent dots';
  if (IPV4_LIKE.test(name)) return 'must not be formatted as an IP address';
  const prefix = RESERVED_PREFIXES.find((reserved) => name.startsWith(reserved));
  if (prefix) return `must not start with the reserved prefix ${prefix}`;
  const suffix = RESERVED_SUFFIXES.find((reserved) => name.endsWith(reserved));
  if (suffix) return `must not end with the reserved suffix ${suffix}`;
  return undefined;
}

/**
 * The bucket of a resource instance: `sbx-` and the GUID's 32 hex digits in lowercase (36
 * characters, no dots, so it also works with virtual-host style addressing over TLS). One GUID in
 * either case gives one bucket; two GUIDs never share one. Anything else is VALIDATION_FAILED.
 */
export function bucketNameFor(instanceGuid: string): string {
  if (!StorageWire.INSTANCE_GUID_PATTERN.test(instanceGuid)) {
    const message = 'must be an instance GUID';
    throw new DomainError('VALIDATION_FAILED', `The instanceGuid is invalid: ${message}`, [{ field: 'instanceGuid', message }]);
  }
  return `${BUCKET_PREFIX}${instanceGuid.replaceAll('-', '').toLowerCase()}`;
}
