import { describe, expect, it } from 'vitest';
import { CHUNK, keyToPath, pathToKey } from './key-paths.js';

describe('key paths of the filesystem driver', () => {
  it('keeps [a-z0-9-] and escapes every other byte of the UTF-8 form', () => {
    expect(keyToPath('abc-123')).toEqual(['abc-123.o']);
    expect(keyToPath('A/b.c_d')).toEqual(['_41_2fb_2ec_5fd.o']);
    expect(keyToPath('é')).toEqual(['_c3_a9.o']);
    expect(keyToPath('🔑')).toEqual(['_f0_9f_94_91.o']);
  });

  it.each(['..', '.', '../../../etc/passwd', '/etc/passwd', 'a/../../b', '\u0000', 'CON', '.hidden', 'x.tmp', 'x.o', 'x.d'])(
    'maps %j to names of [a-z0-9_-] plus the suffix only: no separator, dot name, hidden file or case',
    (key) => {
      for (const component of keyToPath(key)) {
        expect(component).toMatch(/^[a-z0-9_-]+\.[do]$/);
        expect(component.length).toBeLessThanOrEqual(CHUNK + 2);
      }
      expect(pathToKey(keyToPath(key))).toBe(key);
    },
  );

  it('cuts long keys into folders of CHUNK characters and a last file', () => {
    const key = 'x'.repeat(CHUNK * 2 + 5);
    const path = keyToPath(key);
    expect(path).toEqual(['x'.repeat(CHUNK) + '.d', 'x'.repeat(CHUNK) + '.d', 'xxxxx.o']);
    expect(pathToKey(path)).toBe(key);
    const exact = 'y'.repeat(CHUNK);
    expect(keyToPath(exact)).toEqual([exact + '.o']);
  });

  it('round-trips keys of every shape', () => {
    const keys = ['a', 'a/b/c', 'ünïcødé/秘密/🔑', ' padded ', `xml&<>"'`, '_5f', '_', '-', '秘'.repeat(341), 'é/'.repeat(200) + 'z'];
    for (const key of keys) expect(pathToKey(keyToPath(key))).toBe(key);
  });

  it('gives distinct keys distinct paths', () => {
    const keys = ['a', 'A', 'a/b', 'a_2fb', 'a%2fb', '_61', 'ab', 'a b', 'a.b'];
    const paths = keys.map((key) => keyToPath(key).join('/'));
    expect(new Set(paths).size).toBe(keys.length);
  });

  it.each([
    ['an unknown suffix', ['abc.txt']],
    ['a folder suffix last', ['abc.d']],
    ['an object suffix inside', ['abc.o', 'def.o']],
    ['uppercase', ['ABC.o']],
    ['a kept byte escaped', ['_61.o']],
    ['malformed UTF-8', ['_ff.o']],
    ['a truncated escape', ['_6.o']],
    ['a short folder chunk', ['abc.d', 'def.o']],
    ['an empty name', ['.o']],
    ['a temp file', ['.5f1c.tmp']],
    ['nothing', []],
  ])('maps no key to a path it did not make (%s)', (_label, components) => {
    expect(pathToKey(components)).toBeUndefined();
  });
});
