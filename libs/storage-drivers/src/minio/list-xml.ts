/**
 * The part of an S3 ListObjects answer (`ListBucketResult`, V1 or V2) the driver needs: the keys
 * and whether more follow. Parsed here rather than by the `minio` client, whose parser turns keys
 * that look like numbers into numbers (`001` → `1`, `0x10` → `16`), trims surrounding spaces and
 * URL-decodes keys even when the server (s3rver) ignores `encoding-type=url`. Valid keys hold no
 * control characters, so the request does not ask for URL encoding and keys arrive XML-escaped.
 */

export interface ListResult {
  readonly keys: string[];
  readonly isTruncated: boolean;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Resolve XML character and predefined entity references; throws on anything else. */
export function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);|&/g, (match, reference: string | undefined) => {
    if (reference === undefined) throw new Error('malformed XML: a bare "&"');
    if (reference.startsWith('#x')) return String.fromCodePoint(Number.parseInt(reference.slice(2), 16));
    if (reference.startsWith('#')) return String.fromCodePoint(Number.parseInt(reference.slice(1), 10));
    const entity = ENTITIES[reference];
    if (entity === undefined) throw new Error(`malformed XML: unknown entity ${match}`);
    return entity;
  });
}

export function parseListBucketResult(xml: string): ListResult {
  if (!/<ListBucketResult[\s>]/.test(xml)) throw new Error('not a ListBucketResult');
  const keys: string[] = [];
  for (const [, contents] of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
    const key = /<Key>([^<]*)<\/Key>/.exec(contents ?? '');
    if (!key) throw new Error('a listed object without a key');
    keys.push(unescapeXml(key[1] ?? ''));
  }
  const truncated = /<IsTruncated>\s*(true|false)\s*<\/IsTruncated>/.exec(xml);
  return { keys, isTruncated: truncated?.[1] === 'true' };
}
