/** What an HTTP target child process tells the case process once it listens. */
export interface TargetReady {
  readonly kind: 'ready';
  readonly port: number;
}

export type TargetKind = 'fastify' | 'gateway' | 'standalone';

export const TARGET_KINDS: readonly TargetKind[] = ['fastify', 'gateway', 'standalone'];

export function isTargetReady(message: unknown): message is TargetReady {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { kind?: unknown }).kind === 'ready' &&
    typeof (message as { port?: unknown }).port === 'number'
  );
}

/** The route every target serves, with the same JSON body. */
export const HEALTH_PATH = '/healthz';
