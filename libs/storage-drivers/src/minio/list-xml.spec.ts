import { describe, expect, it } from 'vitest';
import { parseListBucketResult, unescapeXml } from './list-xml.js';

const listing = (contents: string, truncated = 'false') =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix></Prefix>` +
  `<MaxKeys>100</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}</ListBucketResult>`;
const entry = (key: string) => `<Contents><Key>${key}</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>&quot;abc&quot;</ETag><Size>1</Size></Contents>`;

describe('ListBucketResult parsing', () => {
  it('keeps keys exactly: numbers stay strings, spaces stay, plus and percent are not URL-decoded', () => {
    const keys = ['001', '0x10', '1e5', ' padded ', 'a+b', '100%', '%41', 'ünïcødé/🔑'];
    expect(parseListBucketResult(listing(keys.map(entry).join('')))).toEqual({ keys, isTruncated: false });
  });

  it('resolves the XML escapes of the five special characters and character references', () => {
    const xml = listing(entry('a&amp;b&lt;c&gt;d&quot;e&apos;f') + entry('&#65;&#x42;&#x1F511;'), 'true');
    expect(parseListBucketResult(xml)).toEqual({ keys: [`a&b<c>d"e'f`, 'AB🔑'], isTruncated: true });
  });

  it('reads an empty listing', () => {
    expect(parseListBucketResult(listing(''))).toEqual({ keys: [], isTruncated: false });
  });

  it.each([
    ['not a listing', '<Error><Code>NoSuchBucket</Code></Error>'],
    ['an entry without a key', listing('<Contents><Size>1</Size></Contents>')],
    ['a bare ampersand', listing(entry('a&b'))],
    ['an unknown entity', listing(entry('a&nbsp;b'))],
  ])('refuses %s', (_label, xml) => {
    expect(() => parseListBucketResult(xml)).toThrow();
  });

  it('unescapes nothing else', () => {
    expect(unescapeXml('plain text / with "quotes"')).toBe('plain text / with "quotes"');
  });
});
