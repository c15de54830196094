/**
 * Child process entry: `node s3rver-child.js <directory>`. Runs s3rver on 127.0.0.1 (free port) in a
 * process of its own (not in the case process, whose event loop drives autocannon), reports the port
 * over IPC and exits when the parent goes away.
 */
import S3rver from 's3rver';
import type { TargetReady } from '../targets/protocol.js';

const [directory] = process.argv.slice(2);

process.once('disconnect', () => process.exit(0));
(async () => {
  if (!directory) throw new Error('s3rver-child: no directory');
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true });
  const address = await server.run();
  const ready: TargetReady = { kind: 'ready', port: address.port };
  process.send?.(ready);
})().catch((error: unknown) => {
  process.stderr.write(`s3rver-child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
