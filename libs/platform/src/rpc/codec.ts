/**
 * The bytes of every RPC message, on NATS and in process: MessagePack (msgpackr). Binary fields
 * (envelopes, payloads, wrapped keys) travel as bytes instead of base64 inside JSON, and a message is
 * encoded and decoded once per hop. The semantics callers relied on with JSON are kept: an
 * `undefined` property vanishes, a Date arrives as its ISO string, and both sides get their own
 * copy (no shared references, as across a network).
 *
 * A request is `{ h, d }`: the headers (trace context, caller, request id, deadline; string values)
 * and the payload. A reply is `{ ok }` (the response, with `replayed: true` when it is the answer of an
 * earlier attempt with the same Idempotency-Key) or `{ err }` (a WireError).
 */
import { isWireError, type WireError } from '@sealbox/contracts';
import { addExtension, Packr, type Options } from 'msgpackr';
import type { HeaderMap } from './headers.js';

/** MessagePack extension type of a Date written as its ISO string (read back as the string). */
const DATE_AS_ISO_STRING = 0x44;

addExtension({
  Class: Date,
  type: DATE_AS_ISO_STRING,
  write: (date: Date) => date.toISOString(),
  read: (text: string) => text,
});

/** `skipValues` (msgpackr ≥ 1.10) leaves out properties whose value is listed; its typings lag behind. */
const options: Options & { readonly skipValues: readonly unknown[] } = { useRecords: false, skipValues: [undefined], mapsAsObjects: true };
const packr = new Packr(options);

export interface RequestFrame {
  readonly h: HeaderMap;
  readonly d: unknown;
}

export type ReplyFrame = { readonly ok: unknown; readonly replayed?: true } | { readonly err: WireError };

/** Why a frame could not be read: the bytes are not a message of this protocol. */
export class MalformedFrameError extends Error {
  constructor(what: string) {
    super(`malformed RPC ${what}`);
    this.name = 'MalformedFrameError';
  }
}

const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Where `value` holds a string that is not well-formed Unicode (a lone surrogate), as a field path
 * (`context.versionId`, `labels.2`); undefined when it holds none. Such a string has no UTF-8 form:
 * MessagePack would carry it as U+FFFD, so two different strings would arrive as the same one. The
 * RPC client refuses to send it instead (bytes are not looked into).
 */
export function illFormedStringPath(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path || '(root)' : undefined;
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return undefined;
  for (const key in value) {
    const found = illFormedStringPath((value as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
    if (found !== undefined) return found;
  }
  return undefined;
}

export function encodeRequest(headers: HeaderMap, payload: unknown): Uint8Array {
  return packr.pack({ h: headers, d: payload });
}

/** A plain object (what a map decodes to), not an array, null or one of msgpackr's marker objects. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

function isHeaderMap(value: unknown): value is HeaderMap {
  if (!isPlainObject(value)) return false;
  for (const key in value) if (typeof value[key] !== 'string') return false;
  return true;
}

export function decodeRequest(bytes: Uint8Array): RequestFrame {
  let frame: unknown;
  try {
    frame = packr.unpack(bytes);
  } catch {
    throw new MalformedFrameError('request');
  }
  if (!isPlainObject(frame) || !isHeaderMap(frame['h'])) throw new MalformedFrameError('request');
  return frame as unknown as RequestFrame;
}

export function encodeReply(reply: ReplyFrame): Uint8Array {
  return packr.pack(reply);
}

export function decodeReply(bytes: Uint8Array): ReplyFrame {
  let frame: unknown;
  try {
    frame = packr.unpack(bytes);
  } catch {
    throw new MalformedFrameError('reply');
  }
  if (isPlainObject(frame)) {
    if (!('err' in frame)) return frame as ReplyFrame; // `{ ok }`, or `{}` when the handler answered undefined
    if (isWireError(frame['err'])) return frame as ReplyFrame;
  }
  throw new MalformedFrameError('reply');
}
