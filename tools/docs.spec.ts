import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The documentation names nothing that does not exist: every relative link of every markdown file
 * (and its #anchor, when it points at a heading), every repository path the README and docs/ quote in
 * backticks, and every document a source file names.
 */

const root = resolve(import.meta.dirname, '..');

/**
 * Pages other branches are writing at the same time; they exist once those branches are merged.
 * Links to them are accepted until then. Remove an entry as soon as its page is in the tree.
 */
const PENDING = new Set<string>([]);

const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git', '.nx', 'data', 'coverage', 'results']);

function filesUnder(dir: string, keep: (path: string) => boolean): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return SKIPPED_DIRS.has(entry) ? [] : filesUnder(path, keep);
    return keep(path) ? [path] : [];
  });
}

const repoPath = (path: string) => relative(root, path).split(sep).join('/');
/** Inside this checkout (a path that leaves it, e.g. to a sibling folder on one machine, does not count). */
const exists = (path: string) => path.startsWith(root + sep) && (PENDING.has(repoPath(path)) || existsSync(path));

/** Markdown without its fenced code blocks (their text is code, not links). */
const prose = (markdown: string) => markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');

/** GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces to hyphens, -1, -2 for repeats. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, text] of prose(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = (text as string)
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** What is wrong with one link of `file`, or undefined. */
function brokenLink(file: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // http:, https:, mailto:
  const [pathPart = '', anchor] = target.split('#', 2);
  const path = pathPart === '' ? file : resolve(dirname(file), decodeURI(pathPart));
  if (!exists(path)) return `${target}: no such file`;
  if (anchor === undefined || !path.endsWith('.md') || PENDING.has(repoPath(path))) return undefined;
  return anchorsOf(readFileSync(path, 'utf8')).has(anchor) ? undefined : `${target}: no heading #${anchor}`;
}

const markdownFiles = filesUnder(root, (path) => path.endsWith('.md'));
const docsPages = [join(root, 'README.md'), ...filesUnder(join(root, 'docs'), (path) => path.endsWith('.md'))];

/** Inline code that reads as a path of this repository: `libs/x/y.ts`, `docker/compose.yaml`, `bench/`. */
const REPO_PATH = /^(?:apps|libs|tools|e2e|docker|bench|docs)\/[\w./-]*$|^[\w.-]+\/[\w./-]*\.(?:md|ts|mjs|js|json|ya?ml|conf|sh)$/;

/** A document named in source: resolved from the file's folder, then from each folder above it. */
function documentExists(file: string, name: string): boolean {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if (exists(resolve(dir, name))) return true;
    if (dir === root || !dir.startsWith(root)) return false;
  }
}

const SOURCE = /\.(?:ts|mts|cts|mjs|cjs|js|ya?ml|conf|sh)$|(?:^|\/)Dockerfile$/;

describe('documentation references', () => {
  it('finds the pages it checks', () => {
    expect(markdownFiles.map(repoPath)).toEqual(expect.arrayContaining(['README.md', 'docs/README.md', 'docs/architecture.md', 'libs/crypto/ENVELOPE.md', 'bench/README.md']));
  });

  it('every relative link of every markdown file resolves, anchors included', () => {
    const broken: string[] = [];
    let links = 0;
    for (const file of markdownFiles) {
      for (const [, target] of prose(readFileSync(file, 'utf8')).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
        links += 1;
        const problem = brokenLink(file, target as string);
        if (problem) broken.push(`${repoPath(file)}: ${problem}`);
      }
    }
    expect(broken).toEqual([]);
    expect(links).toBeGreaterThan(30);
  });

  it('every repository path the README and docs/ name in backticks exists', () => {
    const missing: string[] = [];
    let paths = 0;
    for (const file of docsPages) {
      for (const [, code] of prose(readFileSync(file, 'utf8')).matchAll(/`([^`\n]+)`/g)) {
        const path = (code as string).trim();
        if (!REPO_PATH.test(path) || path.includes('/dist')) continue;
        paths += 1;
        if (!exists(resolve(root, path)) && !exists(resolve(dirname(file), path))) missing.push(`${repoPath(file)}: \`${path}\``);
      }
    }
    expect(missing).toEqual([]);
    expect(paths).toBeGreaterThan(20);
  });

  it('no source file names a document that does not exist in the repository', () => {
    const missing: string[] = [];
    for (const file of filesUnder(root, (path) => SOURCE.test(path))) {
      if (file === import.meta.filename) continue;
      const text = readFileSync(file, 'utf8');
      for (const [name] of text.matchAll(/[\w./-]*[\w-]\.md\b/g)) if (!documentExists(file, name)) missing.push(`${repoPath(file)}: ${name}`);
    }
    expect(missing).toEqual([]);
  });

  it('keeps the pending list to pages that do not exist yet', () => {
    expect([...PENDING].filter((page) => existsSync(join(root, page)))).toEqual([]);
  });
});

describe('README', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');

  it('is at most 200 lines and links every page of docs/', () => {
    expect(readme.trimEnd().split('\n').length).toBeLessThanOrEqual(200);
    const index = readFileSync(join(root, 'docs', 'README.md'), 'utf8');
    const pages = [...filesUnder(join(root, 'docs'), (path) => path.endsWith('.md')).map((path) => relative(join(root, 'docs'), path)), ...[...PENDING].map((page) => page.slice('docs/'.length))];
    for (const page of pages.filter((name) => name !== 'README.md')) expect(index, `docs/README.md links ${page}`).toContain(`](${page})`);
    expect(readme).toContain('](docs/README.md)');
  });

  it('maps every app, lib and tool', () => {
    const folders = ['apps', 'libs', 'tools'].flatMap((parent) =>
      readdirSync(join(root, parent))
        .filter((entry) => statSync(join(root, parent, entry)).isDirectory() && entry !== 'node_modules')
        .map((entry) => `${parent}/${entry}`),
    );
    expect(folders.length).toBeGreaterThan(20);
    const map = /^## What is in the repository\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1] ?? '';
    expect(folders.filter((folder) => !map.includes(`\`${folder}\``))).toEqual([]);
  });
});
