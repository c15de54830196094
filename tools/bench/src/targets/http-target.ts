/**
 * Child process entry: `node http-target.js <fastify|gateway|standalone> <version> <tracing on|off>`. Starts one
 * HTTP server on 127.0.0.1 (free port), reports the port over IPC, and exits when the parent goes away.
 */
import { TARGET_KINDS, type TargetKind, type TargetReady } from './protocol.js';

const [kind, version = '0.0.0', tracing = 'on'] = process.argv.slice(2);

function isKind(value: string | undefined): value is TargetKind {
  return TARGET_KINDS.some((known) => known === value);
}

async function start(): Promise<number> {
  if (!isKind(kind)) throw new Error(`http-target: unknown kind "${kind ?? ''}"`);
  switch (kind) {
    case 'fastify':
      return (await import('./fastify-target.js')).startFastifyTarget(version);
    case 'gateway':
      return (await import('./gateway-target.js')).startGatewayTarget(tracing === 'on');
    case 'standalone':
      return (await import('./standalone-target.js')).startStandaloneTarget();
  }
}

process.once('disconnect', () => process.exit(0));
start().then(
  (port) => {
    const ready: TargetReady = { kind: 'ready', port };
    process.send?.(ready);
  },
  (error: unknown) => {
    process.stderr.write(`http-target ${kind ?? ''} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
