import { RpcHeaders } from '@sealbox/contracts';
import { z } from 'zod';

/** The authenticated caller, as the gateway forwards it. */
export const Caller = z.object({
  iamId: z.string(),
  accountId: z.string(),
  subType: z.enum(['user', 'service_id', 'service']),
});
export type Caller = z.infer<typeof Caller>;

/** The headers of a request (first value of each name), whichever transport carries it. */
export type HeaderMap = Record<string, string>;

export function callerFrom(headers: HeaderMap | undefined): Caller | undefined {
  const raw = headers?.[RpcHeaders.caller];
  if (!raw) return undefined;
  try {
    const parsed = Caller.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
