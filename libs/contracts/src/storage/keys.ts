/**
 * The rules of object keys, shared by the wire schemas (early validation) and the storage drivers
 * (which enforce them again: a key is checked where it is used).
 *
 * A key is an opaque string, `/`-separated by convention. Beyond S3's own limits the rules refuse
 * what S3 implementations or tools would read differently: `.` / `..` and empty segments (path
 * normalization folds `a//b`, `a/./b` into `a/b`), a leading `/`, control characters (not valid in
 * XML listings) and lone surrogates (not encodable in UTF-8, so two strings would name one object).
 */

/** At most this many characters (Unicode code points). */
export const MAX_KEY_CHARS = 512;
/** And at most this many bytes of UTF-8 (S3's limit on object keys). */
export const MAX_KEY_BYTES = 1024;

const CONTROL = /\p{Cc}/u;
const LONE_SURROGATE = /\p{Surrogate}/u;

const utf8Length = (value: string): number => Buffer.byteLength(value, 'utf8');

/** Why a string is not a valid list bound (prefix, startAfter), or undefined when it is one. */
export function listBoundProblem(value: string): string | undefined {
  if (utf8Length(value) > MAX_KEY_BYTES) return `must be at most ${MAX_KEY_BYTES} bytes of UTF-8`;
  if (LONE_SURROGATE.test(value)) return 'must be well-formed Unicode (no lone surrogates)';
  if (CONTROL.test(value)) return 'must not contain control characters';
  return undefined;
}

/** Why a string is not a valid object key, or undefined when it is one. */
export function objectKeyProblem(key: string): string | undefined {
  if (key.length === 0) return 'must not be empty';
  if ([...key].length > MAX_KEY_CHARS) return `must be at most ${MAX_KEY_CHARS} characters`;
  const bound = listBoundProblem(key);
  if (bound) return bound;
  if (key.startsWith('/')) return 'must not start with "/"';
  for (const segment of key.split('/')) {
    if (segment === '..' || segment === '.') return 'must not contain "." or ".." segments';
    if (segment === '') return 'must not contain empty segments ("//" or a trailing "/")';
  }
  return undefined;
}

/**
 * The order of keys in a listing: by their UTF-8 bytes, as S3 lists them (it differs from
 * JavaScript's UTF-16 order for characters above U+FFFF against U+E000..U+FFFF).
 */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
