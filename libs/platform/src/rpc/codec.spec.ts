import { describe, expect, it } from 'vitest';
import { decodeReply, decodeRequest, encodeReply, encodeRequest, MalformedFrameError } from './codec.js';

describe('RPC codec', () => {
  it('round-trips a request: headers and payload, binary as bytes', () => {
    const payload = { name: 'x', count: 3, nested: { list: [1, 'two', null] }, envelope: Buffer.from([0, 1, 2, 255]) };
    const frame = decodeRequest(encodeRequest({ traceparent: 't', 'sealbox-deadline': '123' }, payload));
    expect(frame.h).toEqual({ traceparent: 't', 'sealbox-deadline': '123' });
    expect(frame.d).toEqual({ ...payload, envelope: expect.any(Uint8Array) });
    expect(Buffer.from((frame.d as { envelope: Uint8Array }).envelope).equals(payload.envelope)).toBe(true);
  });

  it('keeps the JSON semantics callers rely on: undefined properties vanish, a Date becomes its ISO string', () => {
    const frame = decodeRequest(encodeRequest({}, { gone: undefined, at: new Date(Date.UTC(2026, 11, 7)) }));
    expect(frame.d).toEqual({ at: '2026-12-07T00:00:00.000Z' });
    expect(frame.d).not.toHaveProperty('gone');
  });

  it('gives the receiver its own copy (no shared references)', () => {
    const bytes = Buffer.from('secret');
    const frame = decodeRequest(encodeRequest({}, { bytes }));
    bytes.fill(0);
    expect(Buffer.from((frame.d as { bytes: Uint8Array }).bytes).toString()).toBe('secret');
  });

  it('round-trips both kinds of reply, and an undefined response', () => {
    expect(decodeReply(encodeReply({ ok: { a: 1 } }))).toEqual({ ok: { a: 1 } });
    expect(decodeReply(encodeReply({ err: { code: 'NOT_FOUND', message: 'gone' } }))).toEqual({ err: { code: 'NOT_FOUND', message: 'gone' } });
    expect(decodeReply(encodeReply({ ok: undefined }))).toEqual({});
  });

  it.each([
    ['bytes that are not MessagePack', Buffer.from([0xc1])],
    ['JSON text', new TextEncoder().encode('{"h":{},"d":{}}')],
    ['a frame without headers', encodeReply({ ok: 1 })],
  ])('refuses %s as a request', (_, bytes) => {
    expect(() => decodeRequest(bytes)).toThrow(MalformedFrameError);
  });

  it.each([
    ['bytes that are not MessagePack', Buffer.from([0xc1])],
    ['an error that is not a wire error', encodeReply({ err: { code: 'NOPE', message: 'x' } } as never)],
    ['an array', encodeReply([1, 2] as never)],
    ['no bytes at all', new Uint8Array(0)],
  ])('refuses %s as a reply', (_, bytes) => {
    expect(() => decodeReply(bytes)).toThrow(MalformedFrameError);
  });
});
