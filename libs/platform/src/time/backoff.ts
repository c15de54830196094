import { randomInt } from 'node:crypto';

/**
 * Exponential backoff for the loops that wait out an unavailable dependency (NATS at start, the event
 * broker, the event spool): the wait starts at `initialMs`, is multiplied by `factor` after each
 * failure up to `maxMs`, and starts over after `reset()` (a success, or word that the dependency is
 * back). Not a library: p-retry's current major needs Node 22, exponential-backoff takes no abort
 * signal, neither takes an injected wait, and three of these loops are not "call f until it resolves"
 * but schedulers that keep the backoff between their own tries.
 */
export interface BackoffOptions {
  /** The wait after the first failure, in ms. */
  readonly initialMs: number;
  /** No wait is longer than this. */
  readonly maxMs: number;
  /** What each further failure multiplies the wait by; 2 unless said. */
  readonly factor?: number;
  /**
   * `full`: each wait is drawn uniformly between 0 and the computed one ("full jitter"), so processes
   * that failed together do not all come back at the same moment; `none`: exactly the computed one.
   */
  readonly jitter: 'full' | 'none';
  /** A number in [0, 1) for the jitter; node:crypto's by default. */
  readonly random?: () => number;
}

const RANDOM_RANGE = 2 ** 47;
const cryptoRandom = () => randomInt(RANDOM_RANGE) / RANDOM_RANGE;

export class Backoff {
  private ceiling: number;
  private count = 0;
  private readonly factor: number;
  private readonly random: () => number;

  constructor(private readonly options: BackoffOptions) {
    if (!(options.initialMs >= 0) || !(options.maxMs >= options.initialMs)) {
      throw new RangeError(`backoff: need 0 <= initialMs <= maxMs, got ${options.initialMs} and ${options.maxMs}`);
    }
    this.factor = options.factor ?? 2;
    if (!(this.factor >= 1)) throw new RangeError(`backoff: the factor must be at least 1, got ${this.factor}`);
    this.random = options.random ?? cryptoRandom;
    this.ceiling = options.initialMs;
  }

  /** Failures since the last reset. */
  get failures(): number {
    return this.count;
  }

  /** The computed wait the next failure gets (before jitter), without counting one. */
  peek(): number {
    return this.ceiling;
  }

  /** Count a failure; the wait before the next try. */
  next(): number {
    const ceiling = this.ceiling;
    this.count++;
    // Grown one step at a time, never by a power: no overflow however long the outage.
    this.ceiling = Math.min(this.options.maxMs, ceiling * this.factor);
    return this.options.jitter === 'full' ? Math.floor(this.random() * (ceiling + 1)) : ceiling;
  }

  /** The dependency answered again: the next failure waits `initialMs`. */
  reset(): void {
    this.count = 0;
    this.ceiling = this.options.initialMs;
  }
}

export interface SleepOptions {
  /** Ends the wait early. */
  readonly signal?: AbortSignal | undefined;
  /** Let the process exit during the wait (for loops that must not keep it alive). */
  readonly unref?: boolean;
}

/** How a loop waits: resolves after `ms`, or at once when `signal` aborts (never rejects). */
export type Sleep = (ms: number, options?: SleepOptions) => Promise<void>;

/** A timer wait that an abort ends early. */
export const sleep: Sleep = (ms, options = {}) =>
  new Promise<void>((resolve) => {
    const { signal } = options;
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (options.unref) timer.unref();
    signal?.addEventListener('abort', done, { once: true });
  });

export interface RetryOptions extends BackoffOptions {
  /** Stops retrying: the promise then rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  /** Called after each failure with the wait before the next try (a log line, usually). */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** The wait; `sleep` by default, a fake one in tests. */
  readonly sleep?: Sleep;
}

/**
 * Call `attempt` until it resolves, waiting by the backoff between failures; resolves with its value.
 * When `signal` aborts (before a try or during a wait) it rejects with the signal's reason and tries
 * no more; a try in progress is not interrupted (pass the signal to it for that).
 */
export async function retry<T>(attempt: (attemptNumber: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const backoff = new Backoff(options);
  const wait = options.sleep ?? sleep;
  for (let attemptNumber = 1; ; attemptNumber++) {
    options.signal?.throwIfAborted();
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      options.signal?.throwIfAborted();
      const delayMs = backoff.next();
      options.onRetry?.(error, attemptNumber, delayMs);
      await wait(delayMs, { signal: options.signal });
    }
  }
}
