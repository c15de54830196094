/**
 * Child process entry: `node case-process.js <case name>`. Runs one case in a fresh process (no JIT,
 * heap, tracing or event-loop state left over from other rows) and reports over IPC.
 */
import { createBench } from './cases/index.js';
import { loadBenchSettings } from './config.js';
import type { CaseMessage } from './protocol.js';

function report(message: CaseMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) {
      reject(new Error('case-process must be started by the bench (no IPC channel)'));
      return;
    }
    process.send(message, (error: Error | null) => (error ? reject(error) : resolve()));
  });
}

async function main(): Promise<void> {
  const name = process.argv[2] ?? '';
  let message: CaseMessage;
  try {
    const settings = loadBenchSettings();
    const measurement = await createBench(settings).get(name).run(settings);
    message = { kind: 'result', measurement };
  } catch (error) {
    message = { kind: 'error', message: error instanceof Error ? error.message : String(error) };
  }
  await report(message);
}

// Exit explicitly: a closed Nest app or NATS client may still hold a timer for a moment.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
