#!/usr/bin/env node
// `npm run docs:config`: writes the generated tables into their docs pages, between their markers:
// the configuration tables (docs/configuration.md), the action → roles table (docs/iam.md) and the
// event catalog (docs/events.md). The page of each section is DOC_TARGETS in src/render.ts.
// The schemas are TypeScript sources (libs/* and apps/standalone), so they are loaded through the
// unit test project's Vite pipeline (same aliases and decorator transform as the tests): no build is
// needed, and the pages get exactly what the specs in src/ compare them with.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createVitest } from 'vitest/node';

const root = fileURLToPath(new URL('../../', import.meta.url));

const vitest = await createVitest('test', { root, watch: false });
try {
  const docs = await vitest.getProjectByName('unit').import(fileURLToPath(new URL('./src/index.ts', import.meta.url)));
  const render = {
    config: (page) => docs.withConfigSection(page, docs.renderConfigSection(docs.appConfigSchemas)),
    ...Object.fromEntries(Object.entries(docs.catalogs).map(([name, catalog]) => [name, (page) => docs.withSection(page, name, catalog())])),
  };
  for (const [name, file] of Object.entries(docs.DOC_TARGETS)) {
    const path = `${root}${file}`;
    const page = readFileSync(path, 'utf8');
    const updated = render[name](page);
    if (updated === page) {
      console.log(`${file}: the ${name} table is up to date`);
    } else {
      writeFileSync(path, updated);
      console.log(`${file}: the ${name} table was updated`);
    }
  }
} finally {
  await vitest.close();
}
