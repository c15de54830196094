import { AppNames, type AppName } from '@sealbox/contracts';
import { describeConfig } from '@sealbox/platform';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CONFIG_END,
  CONFIG_START,
  DOC_TARGETS,
  GENERATOR_COMMAND,
  configSectionOf,
  renderAppTable,
  renderConfigSection,
  withConfigSection,
} from './render.js';
import { appConfigSchemas } from './schemas.js';

const pagePath = fileURLToPath(new URL(`../../../${DOC_TARGETS.config}`, import.meta.url));

describe('docs/configuration.md', () => {
  it('has the tables of the apps’ config schemas', () => {
    const page = readFileSync(pagePath, 'utf8');
    expect(configSectionOf(page), `${DOC_TARGETS.config}'s configuration tables are out of date: run \`${GENERATOR_COMMAND}\``).toBe(
      renderConfigSection(appConfigSchemas),
    );
  });
});

describe('renderAppTable', () => {
  const schema = z.object({
    SEALBOX_REQUIRED: z.string().describe('Needed | always'),
    SEALBOX_DEFAULTED: z.coerce.number().default(8080).describe('Has a\n default'),
    SEALBOX_OPTIONAL: z.string().optional().describe('May be unset'),
    SEALBOX_UNDESCRIBED: z.string().optional(),
  });

  it('renders one row per variable with required, default and description', () => {
    expect(renderAppTable('apps/demo', describeConfig(schema))).toBe(
      [
        '## apps/demo',
        '',
        '| variable | required | default | description |',
        '|---|---|---|---|',
        '| `SEALBOX_REQUIRED` | yes |  | Needed \\| always |',
        '| `SEALBOX_DEFAULTED` | no | `8080` | Has a default |',
        '| `SEALBOX_OPTIONAL` | no |  | May be unset |',
        '| `SEALBOX_UNDESCRIBED` | no |  |  |',
      ].join('\n'),
    );
  });
});

describe('renderConfigSection', () => {
  it('has one table per app of the registry, in registry order', () => {
    const section = renderConfigSection(appConfigSchemas);
    const headings = [...section.matchAll(/^## apps\/(\S+)$/gm)].map((match) => match[1]);
    expect(headings).toEqual([...AppNames]);
  });

  it('lists every variable of every schema', () => {
    const section = renderConfigSection(appConfigSchemas);
    for (const app of AppNames as readonly AppName[]) {
      for (const name of Object.keys(appConfigSchemas[app].shape)) expect(section).toContain(`| \`${name}\` |`);
    }
  });
});

describe('configuration markers', () => {
  const readme = ['# Title', '', 'Intro.', CONFIG_START, 'old table', CONFIG_END, '', '## After', ''].join('\n');

  it('replaces only the text between the markers', () => {
    const updated = withConfigSection(readme, 'new table');
    expect(updated).toBe(['# Title', '', 'Intro.', CONFIG_START, 'new table', CONFIG_END, '', '## After', ''].join('\n'));
    expect(configSectionOf(updated)).toBe('new table');
  });

  it('is idempotent', () => {
    const once = withConfigSection(readme, 'new table');
    expect(withConfigSection(once, 'new table')).toBe(once);
  });

  it('refuses a page without both markers, in order, once each', () => {
    const problem = /must contain <!-- config:start --> followed by <!-- config:end -->, once each/;
    expect(() => configSectionOf('# no markers')).toThrow(problem);
    expect(() => configSectionOf(`${CONFIG_END}\n${CONFIG_START}`)).toThrow(problem);
    expect(() => withConfigSection(`${CONFIG_START}\n${CONFIG_END}\n${CONFIG_START}\n${CONFIG_END}`, 'x')).toThrow(problem);
  });
});
