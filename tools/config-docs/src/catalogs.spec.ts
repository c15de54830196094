import { ActionRoles, EventTypes } from '@sealbox/contracts';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalogs, renderActionTable, renderEventCatalog, sectionOf, withSection } from './catalogs.js';
import { DOC_TARGETS } from './render.js';

const pageOf = (name: string) => readFileSync(fileURLToPath(new URL(`../../../${DOC_TARGETS[name as keyof typeof DOC_TARGETS]}`, import.meta.url)), 'utf8');

describe('docs catalogs', () => {
  it.each(Object.keys(catalogs))('the %s table matches the registry (run `npm run docs:config`)', (name) => {
    expect(sectionOf(pageOf(name), name)).toBe(catalogs[name]?.());
  });

  it('every catalog has a page', () => {
    for (const name of Object.keys(catalogs)) expect(Object.keys(DOC_TARGETS)).toContain(name);
  });

  it('lists every event and every action', () => {
    expect(renderEventCatalog().split('\n')).toHaveLength(Object.keys(EventTypes).length + 2);
    expect(renderActionTable().split('\n')).toHaveLength(Object.keys(ActionRoles).length + 2);
    expect(renderActionTable()).toContain('| `secrets-manager.secret.read` | SecretsReader, Writer, Manager |');
  });

  it('replaces only the text between the markers', () => {
    const text = 'before\n<!-- events:start -->\nold\n<!-- events:end -->\nafter';
    expect(withSection(text, 'events', 'new')).toBe('before\n<!-- events:start -->\nnew\n<!-- events:end -->\nafter');
    expect(() => sectionOf('no markers', 'events')).toThrow(/markers/);
  });
});
