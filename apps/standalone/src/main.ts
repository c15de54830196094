import 'reflect-metadata';
import { startStandalone } from './standalone.js';

const { app, url } = await startStandalone();
process.stdout.write(`Sealbox is running at ${url} (GET ${url}/healthz, docs at ${url}/docs)\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void app.close().finally(() => process.exit(0));
  });
}
