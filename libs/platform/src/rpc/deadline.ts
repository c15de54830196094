import { context, createContextKey, type Context } from '@opentelemetry/api';

/**
 * The deadline of the request being handled, carried in the active context (the same async context
 * that carries the trace), so the RPC calls a handler makes inherit what remains of its budget.
 * Deadlines are wall-clock epoch milliseconds: they cross processes, so they cannot come from the
 * injected (test) clock.
 */
const DEADLINE = createContextKey('sealbox.rpc.deadline');

/** Time each hop keeps for itself: an inner call gives up this much before its caller does. */
export const HOP_MARGIN_MS = 25;

export function withDeadline(parent: Context, deadlineMs: number | undefined): Context {
  return deadlineMs === undefined ? parent : parent.setValue(DEADLINE, deadlineMs);
}

/** The deadline of the request this code runs for, if any. */
export function activeDeadline(): number | undefined {
  const value = context.active().getValue(DEADLINE);
  return typeof value === 'number' ? value : undefined;
}

/** Whether the caller of the current request has already given up (domain code checks before committing). */
export function deadlinePassed(now = Date.now()): boolean {
  const deadline = activeDeadline();
  return deadline !== undefined && now >= deadline;
}

/** Parse the deadline header: a positive integer of epoch milliseconds, or undefined. */
export function parseDeadline(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const value = Number(header);
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}
