import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as it arrived. */
export interface CapturedRequest {
  readonly method: string;
  /** The path exactly as sent (percent-encoding kept), without the query. */
  readonly rawPath: string;
  /** The query string exactly as sent, without `?` ('' when none). */
  readonly rawQuery: string;
  /** The decoded query. */
  readonly query: Record<string, string>;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface CannedReply {
  readonly status: number;
  /** Sent as JSON unless `raw` is given. */
  readonly body?: unknown;
  readonly raw?: string;
  readonly contentType?: string;
}

export type Responder = (request: CapturedRequest) => CannedReply;

/** A loopback HTTP server that records every request and answers with the current responder. */
export class CaptureServer {
  readonly requests: CapturedRequest[] = [];
  private responder: Responder = () => ({ status: 500, body: { error: 'no responder set' } });

  private readonly server: Server;
  private address = '';

  private constructor() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const target = request.url ?? '/';
        const queryAt = target.indexOf('?');
        const rawQuery = queryAt === -1 ? '' : target.slice(queryAt + 1);
        const captured: CapturedRequest = {
          method: request.method ?? '',
          rawPath: queryAt === -1 ? target : target.slice(0, queryAt),
          rawQuery,
          query: Object.fromEntries(new URLSearchParams(rawQuery)),
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        this.requests.push(captured);
        const reply = this.responder(captured);
        const text = reply.raw ?? (reply.body === undefined ? '' : JSON.stringify(reply.body));
        response.writeHead(reply.status, text === '' ? {} : { 'Content-Type': reply.contentType ?? 'application/json' });
        response.end(text);
      });
    });
  }

  /** Listens on 127.0.0.1 at a free port. */
  static async start(): Promise<CaptureServer> {
    const capture = new CaptureServer();
    await new Promise<void>((resolve) => capture.server.listen(0, '127.0.0.1', resolve));
    const { port } = capture.server.address() as AddressInfo;
    capture.address = `http://127.0.0.1:${port}`;
    return capture;
  }

  get url(): string {
    return this.address;
  }

  respond(responder: Responder): void {
    this.responder = responder;
  }

  /** The only request since the last reset. */
  single(): CapturedRequest {
    if (this.requests.length !== 1) throw new Error(`expected one request, got ${this.requests.length}`);
    const [request] = this.requests;
    if (!request) throw new Error('no request');
    return request;
  }

  reset(): void {
    this.requests.length = 0;
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }
}
