import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/** One answer (or none: status 0) the load got, at `at` ms of performance.now(). */
export interface Sample {
  readonly at: number;
  readonly status: number;
  readonly code?: string;
}

export interface Acknowledged {
  readonly id: string;
  readonly name: string;
  readonly payload: string;
  /** When the 201 arrived (Date.now()): an event about it cannot be published before. */
  readonly answeredAt: number;
}

/** A create retried with its Idempotency-Key, as a careful client does: after a 503, a 429, or no answer (and 409 IDEMPOTENCY_KEY_IN_USE). */
const RETRIED = new Set([0, 429, 503]);
const retried = (status: number, code: string | undefined) => RETRIED.has(status) || (status === 409 && code === 'IDEMPOTENCY_KEY_IN_USE');
/** How long a create is retried before it counts as not acknowledged. */
const GIVE_UP_MS = 30_000;

/**
 * Writers creating arbitrary secrets through the gateway as fast as it answers, each create with an
 * Idempotency-Key. Every answer is a sample; every 201 is an acknowledged write to check afterwards.
 */
export class WriteLoad {
  readonly samples: Sample[] = [];
  readonly acknowledged: Acknowledged[] = [];
  /** Creates that were never acknowledged (given up), by name. */
  readonly unacknowledged: string[] = [];
  /** Answers that were replays of an earlier attempt (Idempotent-Replayed). */
  replays = 0;
  /**
   * Creates whose retry found the secret already there (409 CONFLICT): an earlier attempt committed
   * but its answer was lost on the way (the process was killed between COMMIT and reply), and the
   * retry was not answered as a replay. The secrets service records the Idempotency-Key with the
   * secret, so the tier expects none.
   */
  readonly committedButUnanswered: string[] = [];
  private running = false;
  private writers: Promise<void>[] = [];
  private sequence = 0;

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly tag: string,
  ) {}

  start(writers: number): void {
    this.running = true;
    this.writers = Array.from({ length: writers }, () => this.write());
  }

  /** Stop starting creates; wait until each writer's current create is acknowledged or given up. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.writers);
  }

  /** Successful creates (201) answered in [from, to). */
  successesBetween(from: number, to: number): number {
    return this.samples.filter((sample) => sample.status === 201 && sample.at >= from && sample.at < to).length;
  }

  private async write(): Promise<void> {
    while (this.running) {
      const name = `${this.tag}-${++this.sequence}`;
      const payload = randomBytes(24).toString('base64url');
      const key = randomUUID();
      const started = performance.now();
      let done = false;
      let acknowledged = false;
      while (!done && performance.now() - started < GIVE_UP_MS) {
        const answer = await this.create(name, payload, key);
        this.samples.push({ at: performance.now(), status: answer.status, ...(answer.code ? { code: answer.code } : {}) });
        if (answer.status === 201 && answer.id) {
          this.acknowledged.push({ id: answer.id, name, payload, answeredAt: Date.now() });
          if (answer.replayed) this.replays++;
          acknowledged = true;
          done = true;
        } else if (!retried(answer.status, answer.code)) {
          if (answer.status === 409 && answer.code === 'CONFLICT') this.committedButUnanswered.push(name);
          done = true;
        } else {
          await sleep(answer.status === 0 ? 100 : 200);
        }
      }
      if (!acknowledged) this.unacknowledged.push(name);
    }
  }

  private async create(name: string, payload: string, key: string): Promise<{ status: number; id?: string; code?: string; replayed?: boolean }> {
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', accept: 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ secret_type: 'arbitrary', name, payload }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await response.json().catch(() => undefined)) as { id?: string; errors?: { code?: string }[] } | undefined;
      return {
        status: response.status,
        ...(body?.id ? { id: body.id } : {}),
        ...(body?.errors?.[0]?.code ? { code: body.errors[0].code } : {}),
        replayed: response.headers.get('idempotent-replayed') === 'true',
      };
    } catch {
      // No answer: the gateway is down or the connection was cut.
      return { status: 0 };
    }
  }
}
