import { AppNames, type AppName } from '@sealbox/contracts';
import { describeConfig, type ConfigShape, type ConfigVariable } from '@sealbox/platform';
import type { z } from 'zod';

export const CONFIG_START = '<!-- config:start -->';
export const CONFIG_END = '<!-- config:end -->';
export const GENERATOR_COMMAND = 'npm run docs:config';

/** The docs page that holds each generated section, between `<!-- name:start -->` and `<!-- name:end -->`. */
export const DOC_TARGETS = { config: 'docs/configuration.md', actions: 'docs/iam.md', events: 'docs/events.md' } as const;

/** Text of one markdown table cell: one line, pipes escaped. */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replaceAll('|', '\\|').trim();
}

function code(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}

export function renderAppTable(app: string, variables: readonly ConfigVariable[]): string {
  const rows = variables.map(
    (variable) =>
      `| ${code(variable.name)} | ${variable.required ? 'yes' : 'no'} | ${
        variable.defaultValue === undefined ? '' : code(cell(variable.defaultValue))
      } | ${cell(variable.description)} |`,
  );
  return [`## ${app}`, '', '| variable | required | default | description |', '|---|---|---|---|', ...rows].join('\n');
}

/** Everything between the markers of docs/configuration.md: one table per app, in the order of the app registry. */
export function renderConfigSection(schemas: Record<AppName, z.ZodObject<ConfigShape>>): string {
  const tables = AppNames.map((app) => renderAppTable(`apps/${app}`, describeConfig(schemas[app])));
  return [`<!-- Generated from the apps' config schemas by \`${GENERATOR_COMMAND}\`; do not edit by hand. -->`, ...tables].join('\n\n');
}

function markerPositions(page: string): { start: number; end: number } {
  const start = page.indexOf(CONFIG_START);
  const end = page.indexOf(CONFIG_END);
  if (start < 0 || end < 0 || end < start || page.indexOf(CONFIG_START, start + 1) >= 0 || page.indexOf(CONFIG_END, end + 1) >= 0) {
    throw new Error(`${DOC_TARGETS.config} must contain ${CONFIG_START} followed by ${CONFIG_END}, once each`);
  }
  return { start: start + CONFIG_START.length, end };
}

/** The text between the markers, without the line breaks that frame it. */
export function configSectionOf(page: string): string {
  const { start, end } = markerPositions(page);
  return page.slice(start, end).replace(/^\n/, '').replace(/\n$/, '');
}

/** The page with `section` between the markers; nothing outside them changes. */
export function withConfigSection(page: string, section: string): string {
  const { start, end } = markerPositions(page);
  return `${page.slice(0, start)}\n${section}\n${page.slice(end)}`;
}
