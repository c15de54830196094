import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { RpcHeaders } from '@sealbox/contracts';
import { z } from 'zod';

/** Read access to the headers of an incoming request, whichever transport carried it. */
export interface HeaderReader {
  get(name: string): string;
}

/** The authenticated caller, as the gateway forwards it. */
export const Caller = z.object({
  iamId: z.string(),
  accountId: z.string(),
  subType: z.enum(['user', 'service_id', 'service']),
});
export type Caller = z.infer<typeof Caller>;

export type HeaderMap = Record<string, string>;

/** Build NATS headers from a plain map (both transports use this representation on the client side). */
export function toNatsHeaders(map: HeaderMap): MsgHdrs {
  const result = natsHeaders();
  for (const [name, value] of Object.entries(map)) result.set(name, value);
  return result;
}

/** Flatten NATS headers into a plain map (first value of each name). */
export function fromNatsHeaders(msgHeaders: MsgHdrs | undefined): HeaderMap {
  const map: HeaderMap = {};
  if (!msgHeaders) return map;
  for (const name of msgHeaders.keys()) map[name] = msgHeaders.get(name);
  return map;
}

/** Headers delivered by the in-process transport, with the lookup semantics of NATS headers. */
export class MapHeaders implements HeaderReader {
  constructor(private readonly map: HeaderMap) {}
  get(name: string): string {
    return this.map[name] ?? '';
  }
  keys(): string[] {
    return Object.keys(this.map);
  }
}

export function callerFrom(reader: HeaderReader | undefined): Caller | undefined {
  const raw = reader?.get(RpcHeaders.caller);
  if (!raw) return undefined;
  try {
    const parsed = Caller.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
