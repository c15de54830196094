import { ActionRoles, EventTypes, eventSubject } from '@sealbox/contracts';

/** README catalogs generated from the registries in libs/contracts: events and the action → roles table. */

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

export function sectionOf(readme: string, name: string): string {
  const { start, end } = markers(name);
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md lacks the ${start} … ${end} markers`);
  return readme.slice(from + start.length, to).replace(/^\n/, '').replace(/\n$/, '');
}

export function withSection(readme: string, name: string, section: string): string {
  const { start, end } = markers(name);
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md lacks the ${start} … ${end} markers`);
  return `${readme.slice(0, from + start.length)}\n${section}\n${readme.slice(to)}`;
}

export const catalogs: Record<string, () => string> = { events: renderEventCatalog, actions: renderActionTable };
