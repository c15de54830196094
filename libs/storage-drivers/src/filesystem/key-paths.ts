/**
 * Object keys as file names. A key's UTF-8 bytes are escaped so that only `[a-z0-9-]` stays as it
 * is and every other byte becomes `_` and two lowercase hex digits: names hold nothing but
 * `[a-z0-9_-]`, so no key (valid or not) can name `.`, `..`, a separator, a hidden or temp file,
 * or differ from another one only by case. The escaped string is cut into chunks of at most
 * CHUNK characters (file names stay far below 255 bytes): every chunk but the last is a directory
 * `<chunk>.d`, the last one is the file `<chunk>.o`. Names the codec did not make map to no key.
 */

/** Escaped characters per path component (plus the two-character suffix). */
export const CHUNK = 240;
export const DIRECTORY_SUFFIX = '.d';
export const OBJECT_SUFFIX = '.o';

const KEPT = /^[a-z0-9-]$/;
const ESCAPED_NAME = /^(?:[a-z0-9-]|_[0-9a-f]{2})+$/;

function escapeKey(key: string): string {
  let escaped = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const char = String.fromCharCode(byte);
    escaped += KEPT.test(char) ? char : `_${byte.toString(16).padStart(2, '0')}`;
  }
  return escaped;
}

/** The path components (relative to the bucket directory) of a key's file. */
export function keyToPath(key: string): string[] {
  const escaped = escapeKey(key);
  if (escaped === '') throw new RangeError('an object key is never empty');
  const components: string[] = [];
  for (let start = 0; start < escaped.length; start += CHUNK) {
    components.push(escaped.slice(start, start + CHUNK) + DIRECTORY_SUFFIX);
  }
  const last = components.length - 1;
  components[last] = (components[last] as string).slice(0, -DIRECTORY_SUFFIX.length) + OBJECT_SUFFIX;
  return components;
}

/** The key whose file is at `components` (relative to the bucket), or undefined when the codec did not make that path. */
export function pathToKey(components: readonly string[]): string | undefined {
  if (components.length === 0) return undefined;
  const last = components.length - 1;
  let escaped = '';
  for (const [index, component] of components.entries()) {
    const suffix = index === last ? OBJECT_SUFFIX : DIRECTORY_SUFFIX;
    if (!component.endsWith(suffix)) return undefined;
    escaped += component.slice(0, -suffix.length);
  }
  if (!ESCAPED_NAME.test(escaped)) return undefined;
  const bytes: number[] = [];
  for (let index = 0; index < escaped.length; ) {
    if (escaped[index] === '_') {
      bytes.push(Number.parseInt(escaped.slice(index + 1, index + 3), 16));
      index += 3;
    } else {
      bytes.push(escaped.charCodeAt(index));
      index += 1;
    }
  }
  const key = Buffer.from(bytes).toString('utf8');
  // Only the canonical path of a key maps back: malformed UTF-8, a kept byte written escaped or
  // chunks cut elsewhere are not names this codec made.
  const canonical = keyToPath(key);
  return canonical.length === components.length && canonical.every((component, index) => component === components[index]) ? key : undefined;
}
