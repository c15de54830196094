import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import { rootLogger } from '../logging/logger.js';
import { decodeRequest, encodeReply, type ReplyFrame, type RequestFrame } from './codec.js';
import { ZERO_AFTER_REPLY, type HandledReply } from './handler.js';

/**
 * The client side of an RPC transport (NATS, or in process): send one encoded request, get the
 * encoded reply. A failure to get a reply rejects (an RpcTransportError where the transport knows
 * why); what the service answered (a response or a domain error) is inside the reply. The RpcClient
 * enforces `timeoutMs` whatever the transport does with it.
 */
export interface RpcTransportClient {
  request(subject: string, frame: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  close(): Promise<void> | void;
}

/**
 * Why no reply came: `timeout` (nobody answered in time: the service is slow, stopped or frozen) or
 * `unreachable` (no server serves the subject, or the broker cannot be reached).
 */
export class RpcTransportError extends Error {
  constructor(
    /**
     * `disconnected`: the connection dropped with the request in flight. It may or may not have been
     * done; only a retry-safe request is sent again (on the new connection).
     */
    readonly kind: 'timeout' | 'unreachable' | 'disconnected',
    message: string,
  ) {
    super(message);
    this.name = 'RpcTransportError';
  }
}

/** A handler Nest registered on a server: `@RpcHandler` methods and the NOT_IMPLEMENTED fallbacks. */
type RegisteredHandler = (frame: RequestFrame, context: undefined) => Promise<unknown>;

const internal = (message: string): ReplyFrame => ({ err: { code: 'INTERNAL', message } });

/**
 * The server side shared by both transports: Nest discovers the `@RpcHandler` methods of the
 * service's controllers and registers them here (`messageHandlers`, by subject); a transport hands
 * each incoming message to `dispatch` and sends back the bytes it returns. Nothing of Nest's
 * observable pipeline runs per message: a handler answers a ReplyFrame (see `consume`).
 */
export abstract class RpcServerStrategy extends Server implements CustomTransportStrategy {
  /** Decode, find the handler, run it, encode its answer. Never rejects. */
  protected async dispatch(subject: string, bytes: Uint8Array): Promise<Uint8Array> {
    let frame: RequestFrame;
    try {
      frame = decodeRequest(bytes);
    } catch {
      return encodeReply({ err: { code: 'VALIDATION_FAILED', message: 'The request is not a message of the Sealbox RPC protocol' } });
    }
    const handler = this.messageHandlers.get(subject) as RegisteredHandler | undefined;
    if (!handler) return encodeReply({ err: { code: 'NOT_IMPLEMENTED', message: `${subject} is not served here` } });
    try {
      let reply = await handler(frame, undefined);
      // Nest answers an error that escaped the handler wrapper with an observable of it.
      if (isObservable(reply)) reply = await lastValueFrom(reply);
      const handled = reply as HandledReply;
      try {
        return encodeReply(handled);
      } finally {
        for (const buffer of handled[ZERO_AFTER_REPLY] ?? []) buffer.fill(0);
      }
    } catch (error) {
      rootLogger().error({ err: error, subject }, 'an RPC handler failed outside its error mapping');
      return encodeReply(internal('An internal error occurred'));
    }
  }

  on(): void {
    // Connection events are reported through the transport's status, not Nest's event stream.
  }
}
