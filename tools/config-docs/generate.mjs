#!/usr/bin/env node
// `npm run docs:config`: writes the configuration tables and the event and action catalogs into
// README.md, between their markers.
// The schemas are TypeScript sources (libs/* and apps/standalone), so they are loaded through the
// unit test project's Vite pipeline (same aliases and decorator transform as the tests): no build is
// needed, and the README gets exactly what src/config-docs.spec.ts compares it with.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createVitest } from 'vitest/node';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readmePath = `${root}README.md`;

const vitest = await createVitest('test', { root, watch: false });
try {
  const docs = await vitest.getProjectByName('unit').import(fileURLToPath(new URL('./src/index.ts', import.meta.url)));
  const readme = readFileSync(readmePath, 'utf8');
  let updated = docs.withConfigSection(readme, docs.renderConfigSection(docs.appConfigSchemas));
  for (const [name, render] of Object.entries(docs.catalogs)) updated = docs.withSection(updated, name, render());
  if (updated === readme) {
    console.log('README.md configuration tables are up to date');
  } else {
    writeFileSync(readmePath, updated);
    console.log('README.md configuration tables updated');
  }
} finally {
  await vitest.close();
}
