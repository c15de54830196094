import swc from 'unplugin-swc';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

/** Tests run against the TypeScript sources of the libs, never their build output. */
const alias = [
  { find: /^@sealbox\/platform\/testing$/, replacement: `${root}libs/platform/src/testing/index.ts` },
  ...readdirSync(`${root}libs`).map((lib) => ({
    find: new RegExp(`^@sealbox/${lib}$`),
    replacement: `${root}libs/${lib}/src/index.ts`,
  })),
];

const swcPlugin = () =>
  swc.vite({
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2023',
    },
  });

const shared = { resolve: { alias }, plugins: [swcPlugin()] };

export default defineConfig({
  test: {
    projects: [
      {
        ...shared,
        test: {
          name: 'unit',
          include: ['{apps,libs,tools,docker}/**/*.spec.ts', '*.spec.ts'],
          exclude: ['**/*.medium.spec.ts', '**/*.browser.spec.ts', '**/node_modules/**', '**/dist/**'],
          environment: 'node',
        },
      },
      {
        ...shared,
        test: {
          name: 'medium',
          include: ['{apps,libs,tools}/**/*.medium.spec.ts'],
          exclude: ['**/node_modules/**', '**/dist/**'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        ...shared,
        test: {
          name: 'e2e',
          include: ['e2e/**/*.e2e.spec.ts'],
          exclude: ['**/node_modules/**'],
          environment: 'node',
          globalSetup: ['e2e/harness/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        ...shared,
        test: {
          // The fault tier: the distributed stack on a NATS server of its own, under faults (npm run test:faults).
          name: 'faults',
          include: ['e2e/faults/*.faults.spec.ts'],
          exclude: ['**/node_modules/**'],
          environment: 'node',
          globalSetup: ['e2e/faults/global-setup.ts'],
          testTimeout: 90_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        ...shared,
        test: {
          // The cluster fault tier: the distributed stack on a 3-node NATS cluster, nodes killed (npm run test:faults:cluster).
          name: 'faults-cluster',
          include: ['e2e/faults/cluster/*.faults.spec.ts'],
          exclude: ['**/node_modules/**'],
          environment: 'node',
          globalSetup: ['e2e/faults/cluster/global-setup.ts'],
          testTimeout: 90_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        // The web console in Debian's Chromium (playwright-core, no browser download) against a standalone server.
        ...shared,
        test: {
          name: 'browser',
          include: ['libs/console-web/test/**/*.browser.spec.ts'],
          exclude: ['**/node_modules/**'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
