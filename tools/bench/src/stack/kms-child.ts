/**
 * The kms service of the `kms.nats.*` rows in a process of its own: KmsModule on a throwaway SoftHSM2
 * token, served on the NATS server named by BENCH_NATS_URL. Says `ready` over IPC once it serves; on
 * SIGTERM (or when the case process goes away) closes the app and removes the token and data dir.
 */
import './exit-with-parent.js';
import { benchLogger, kmsModuleOnTempToken, startService } from '../cases/kms.js';
import { loadBenchSettings, natsServersOf } from '../config.js';

const settings = loadBenchSettings();
const closers: Array<() => Promise<unknown>> = [];
const close = async (): Promise<void> => {
  for (const closer of closers.reverse()) await closer().catch(() => undefined);
};
try {
  const logger = benchLogger(settings);
  const module = await kmsModuleOnTempToken(closers);
  const app = await startService('kms', module, { servers: natsServersOf(settings) }, logger);
  closers.push(() => app.close());
  process.once('SIGTERM', () => void close().then(() => process.exit(0)));
  process.send?.({ kind: 'ready' });
} catch (error) {
  process.stderr.write(`kms bench process: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  await close();
  process.exit(1);
}
