import 'reflect-metadata';
import { exitOnStartupError } from '@sealbox/platform';
import { startStandalone, type Standalone } from './standalone.js';

// The first-start banner (the admin API key) comes last, after every start-up line, where it is seen.
const banner: string[] = [];
let standalone: Standalone;
try {
  standalone = await startStandalone({ announce: (text) => banner.push(text) });
} catch (error) {
  exitOnStartupError(error);
}
const { app, url } = standalone;
process.stdout.write(`Sealbox is running at ${url} (GET ${url}/healthz, docs at ${url}/docs)\n${banner.join('')}`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void app.close().finally(() => process.exit(0));
  });
}
