import { homedir } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { EventSource } from './events/source.js';
import { natsEventSource } from './events/nats-source.js';

/** Where text goes: stdout for results, stderr for messages and progress. */
export interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** Everything the CLI takes from its surroundings: the real process in `main.ts`, fakes in tests. */
export interface CliIo {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homedir: string;
  readonly fetch: typeof fetch;
  readonly nowMs: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** How often a waiting command polls the instance (default 1 s). */
  readonly pollIntervalMs: number;
  /** Reads all of standard input (`@-`); undefined when there is none to read. */
  readonly readStdin?: () => Promise<string>;
  /** Asks a yes/no question on the terminal; undefined when stdin is not a terminal. */
  readonly confirm?: (question: string) => Promise<boolean>;
  /** Opens the event stream (`events tail`). */
  readonly events: EventSource;
  /** Aborted on Ctrl-C: `events tail` stops and exits 0. */
  readonly signal?: AbortSignal;
}

export function processIo(signal?: AbortSignal): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    homedir: homedir(),
    fetch: globalThis.fetch,
    nowMs: () => Date.now(),
    sleep: (ms) => delay(ms),
    pollIntervalMs: 1_000,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    ...(process.stdin.isTTY
      ? {
          confirm: async (question: string) => {
            const rl = createInterface({ input: process.stdin, output: process.stderr });
            try {
              return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
            } finally {
              rl.close();
            }
          },
        }
      : {}),
    events: natsEventSource,
    ...(signal ? { signal } : {}),
  };
}
