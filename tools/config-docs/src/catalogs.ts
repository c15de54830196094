import { ActionRoles, EventTypes, eventSubject } from '@sealbox/contracts';

/** Docs catalogs generated from the registries in libs/contracts: events and the action → roles table. */

const escape = (text: string) => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

export function renderEventCatalog(): string {
  const rows = Object.entries(EventTypes).map(
    ([name, definition]) => `| \`${name}\` | \`${eventSubject(name as keyof typeof EventTypes)}\` | ${definition.source} | ${escape(definition.summary)} |`,
  );
  return ['| event | subject | source | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

export function renderActionTable(): string {
  const rows = Object.entries(ActionRoles).map(([action, roles]) => `| \`${action}\` | ${roles.join(', ')} |`);
  return ['| action | roles that grant it |', '|---|---|', ...rows].join('\n');
}

export const markers = (name: string) => ({ start: `<!-- ${name}:start -->`, end: `<!-- ${name}:end -->` });

export function sectionOf(page: string, name: string): string {
  const { start, end } = markers(name);
  const from = page.indexOf(start);
  const to = page.indexOf(end);
  if (from < 0 || to < from) throw new Error(`the page lacks the ${start} … ${end} markers`);
  return page.slice(from + start.length, to).replace(/^\n/, '').replace(/\n$/, '');
}

export function withSection(page: string, name: string, section: string): string {
  const { start, end } = markers(name);
  const from = page.indexOf(start);
  const to = page.indexOf(end);
  if (from < 0 || to < from) throw new Error(`the page lacks the ${start} … ${end} markers`);
  return `${page.slice(0, from + start.length)}\n${section}\n${page.slice(to)}`;
}

export const catalogs: Record<string, () => string> = { events: renderEventCatalog, actions: renderActionTable };
