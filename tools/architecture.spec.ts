import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const libs = readdirSync(join(root, 'libs'));
const domainLibs = libs.filter((lib) => !['platform', 'gateway'].includes(lib));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === 'dist' || entry === 'node_modules' ? [] : sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/from\s+'([^']+)'/g)].map((match) => match[1] as string);
}

describe('architecture', () => {
  it('libs never depend on apps (the Nx graph points from apps to libs only)', () => {
    for (const lib of libs) {
      const manifest = JSON.parse(readFileSync(join(root, 'libs', lib, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
      };
      expect(Object.keys(manifest.dependencies ?? {}).filter((name) => name.startsWith('@sealbox/app-'))).toEqual([]);
      for (const file of sourceFiles(join(root, 'libs', lib, 'src'))) {
        expect(importsOf(file).filter((name) => name.startsWith('@sealbox/app-') || name.includes('/apps/'))).toEqual([]);
      }
    }
  });

  it('every lib import of another lib is declared in its package.json (so Nx sees the edge)', () => {
    for (const lib of libs) {
      const manifest = JSON.parse(readFileSync(join(root, 'libs', lib, 'package.json'), 'utf8')) as {
        name: string;
        dependencies?: Record<string, string>;
      };
      const declared = new Set(Object.keys(manifest.dependencies ?? {}));
      for (const file of sourceFiles(join(root, 'libs', lib, 'src'))) {
        for (const name of importsOf(file)) {
          const pkg = name.split('/').slice(0, 2).join('/');
          if (pkg.startsWith('@sealbox/') && pkg !== manifest.name) expect(declared, `${file} imports ${pkg}`).toContain(pkg);
        }
      }
    }
  });

  it('domain libs import no HTTP server and throw no HttpException', () => {
    for (const lib of domainLibs) {
      for (const file of sourceFiles(join(root, 'libs', lib, 'src'))) {
        const text = readFileSync(file, 'utf8');
        expect(importsOf(file), file).not.toContain('@nestjs/platform-fastify');
        expect(importsOf(file), file).not.toContain('fastify');
        expect(/\bHttpException\b|new \w+Exception\(/.test(text.replace(/RpcException/g, '')), file).toBe(false);
      }
    }
  });
});
