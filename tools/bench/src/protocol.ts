import { z } from 'zod';
import type { Measurement } from './bench.js';

/** What a case process sends its parent over IPC: one message, then it exits. */
const MeasurementMessage = z.object({
  unit: z.enum(['req/s', 'ops/s']),
  concurrency: z.number(),
  operations: z.number(),
  errors: z.number(),
  elapsedMs: z.number(),
  throughput: z.number(),
  // NaN (no samples) travels as null through JSON.
  meanMs: z.number().nullable().transform((value) => value ?? Number.NaN),
  p50Ms: z.number().nullable().transform((value) => value ?? Number.NaN),
  p99Ms: z.number().nullable().transform((value) => value ?? Number.NaN),
  firstError: z.string().optional(),
});

export const CaseMessage = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('result'), measurement: MeasurementMessage }),
  z.object({ kind: z.literal('error'), message: z.string() }),
]);

export type CaseMessage = { kind: 'result'; measurement: Measurement } | { kind: 'error'; message: string };

export function parseCaseMessage(message: unknown): CaseMessage | undefined {
  const parsed = CaseMessage.safeParse(message);
  if (!parsed.success) return undefined;
  if (parsed.data.kind === 'error') return parsed.data;
  const { firstError, ...rest } = parsed.data.measurement;
  return { kind: 'result', measurement: { ...rest, ...(firstError !== undefined ? { firstError } : {}) } };
}
