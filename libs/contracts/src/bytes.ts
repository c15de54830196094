import { z } from 'zod';

/** Any bytes (a Buffer is a Uint8Array): what a response field of binary data holds. */
export const Bytes = z.custom<Uint8Array>((value) => value instanceof Uint8Array, { message: 'must be bytes' });

/**
 * A binary request field: bytes on the wire (the RPC codec carries them as MessagePack binary, not
 * base64 in JSON), `min`..`max` bytes long.
 */
export function bytes(min: number, max: number) {
  return Bytes.superRefine((value, ctx) => {
    if (value.length < min) ctx.addIssue({ code: 'custom', message: `must be at least ${min} byte${min === 1 ? '' : 's'}` });
    if (value.length > max) ctx.addIssue({ code: 'custom', message: `must be at most ${max} bytes` });
  });
}
