import 'reflect-metadata';
import { exitOnStartupError } from '@sealbox/platform';
import { startStandalone, type Standalone } from './standalone.js';

// The first-start banner (dev mode, the admin API key) comes last, after every start-up line, where
// it is seen; what is announced later (the admin API key once operators unseal) goes out at once.
const banner: string[] = [];
let started = false;
let standalone: Standalone;
try {
  standalone = await startStandalone({ announce: (text) => (started ? process.stdout.write(text) : banner.push(text)) });
} catch (error) {
  exitOnStartupError(error);
}
const { url } = standalone;
started = true;
process.stdout.write(`Sealbox is running at ${url} (GET ${url}/healthz, docs at ${url}/docs)\n${banner.join('')}`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void standalone.close().finally(() => process.exit(0));
  });
}
