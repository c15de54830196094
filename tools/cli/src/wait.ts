import cliProgress from 'cli-progress';
import { LifecycleWire } from '@sealbox/contracts';
import { CliError, ExitCode } from './errors.js';
import type { Gateway } from './http.js';
import type { CliIo } from './io.js';
import type { OutputFormat } from './output.js';
import { getInstance } from './resource-api.js';

type Instance = LifecycleWire.ResourceInstance;
export type Outcome = 'pending' | 'succeeded' | 'failed';

/** What a waiting command waits for: the instance reaching a state (provisioned, restored, removed). */
export interface WaitGoal {
  /** e.g. "Provisioning", "Restoring", "Reclaiming": the progress bar's label. */
  readonly label: string;
  outcome(instance: Instance): Outcome;
}

const inProgress = (instance: Instance) => instance.last_operation?.state === 'in progress';

export const provisioned: WaitGoal = {
  label: 'Provisioning',
  outcome: (i) => (i.state === 'provisioning' || inProgress(i) ? 'pending' : i.state === 'active' ? 'succeeded' : 'failed'),
};
export const restored: WaitGoal = {
  label: 'Restoring',
  outcome: (i) => (i.state === 'active' && !inProgress(i) ? 'succeeded' : i.state === 'failed' || i.state === 'removed' ? 'failed' : 'pending'),
};
export const reclaimed: WaitGoal = {
  label: 'Reclaiming',
  outcome: (i) => (i.state === 'removed' ? 'succeeded' : i.state === 'failed' || i.last_operation?.state === 'failed' ? 'failed' : 'pending'),
};

/** "step 2 of 4", "2/4" in a last_operation description: the saga's progress, when it says so. */
export function stepsOf(description: string | undefined): { done: number; total: number } | undefined {
  const match = /(\d+)\s*(?:\/|of)\s*(\d+)/i.exec(description ?? '');
  if (!match) return undefined;
  const done = Number(match[1]);
  const total = Number(match[2]);
  return total > 0 && done <= total ? { done, total } : undefined;
}

const statusOf = (i: Instance): string => [i.state, i.last_operation?.description].filter(Boolean).join(': ');

/** Shows progress on stderr: a bar on a terminal, one line per change otherwise, nothing for `--output json`. */
class Progress {
  private bar: cliProgress.SingleBar | undefined;
  private last = '';

  constructor(
    private readonly io: CliIo,
    private readonly format: OutputFormat,
    private readonly label: string,
  ) {
    if (format === 'table' && io.stderr.isTTY) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: io.stderr as NodeJS.WriteStream,
          format: `${label} {bar} {percentage}% | {duration}s | {status}`,
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 1,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(1, 0, { status: 'starting' });
    }
  }

  update(instance: Instance, outcome: Outcome): void {
    const status = statusOf(instance);
    if (this.bar) {
      const steps = stepsOf(instance.last_operation?.description);
      if (outcome !== 'pending') {
        this.bar.setTotal(1);
        this.bar.update(1, { status });
      } else if (steps) {
        this.bar.setTotal(steps.total);
        this.bar.update(steps.done, { status });
      } else {
        this.bar.update({ status });
      }
      return;
    }
    if (this.format === 'table' && status !== this.last) this.io.stderr.write(`${this.label}: ${status}\n`);
    this.last = status;
  }

  stop(): void {
    this.bar?.stop();
  }
}

/**
 * Polls `GET /v2/resource_instances/{guid}` until the goal is reached (returns the instance), fails
 * (exit 1 with the last operation's description) or `timeoutS` passes (exit 4).
 */
export async function waitForInstance(io: CliIo, format: OutputFormat, gateway: Gateway, guid: string, goal: WaitGoal, timeoutS: number): Promise<Instance> {
  const progress = new Progress(io, format, goal.label);
  const deadline = io.nowMs() + timeoutS * 1000;
  try {
    for (;;) {
      const instance = await getInstance(gateway, guid);
      const outcome = goal.outcome(instance);
      progress.update(instance, outcome);
      if (outcome === 'succeeded') return instance;
      if (outcome === 'failed') {
        throw new CliError(ExitCode.SERVER, `${goal.label} ${guid} failed: ${statusOf(instance)}`);
      }
      if (io.nowMs() >= deadline) {
        throw new CliError(
          ExitCode.TIMEOUT,
          `${goal.label} ${guid} did not finish within ${timeoutS}s (${statusOf(instance)}). Check with: sealbox resource service-instance ${guid}`,
        );
      }
      await io.sleep(io.pollIntervalMs);
    }
  } finally {
    progress.stop();
  }
}
