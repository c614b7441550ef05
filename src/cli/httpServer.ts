import { createServer, type IncomingMessage, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { openAIErrorBody } from '../relay/relayErrors.js';
import { ListenError } from './exitCodes.js';

export interface RunningServer {
  /** `http://127.0.0.1:8787` */
  readonly url: string;
  readonly port: number;
  /** Requests whose response has not ended yet (open streams among them). */
  activeRequests(): number;
  /** Stops listening and destroys every open connection, ending the streams they carry. */
  close(): Promise<void>;
}

/**
 * How long a client may take before the server closes its connection, so that
 * slow clients (slowloris: headers a byte at a time, a body that never ends,
 * idle keep-alive sockets) cannot hold connections open without bound.
 */
export interface HttpServerLimits {
  /** From the connection (or the previous response) to the end of the request headers; then 408. */
  headersTimeoutMs: number;
  /** To the end of the whole request, body included; never the response, so a long stream is not cut. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: number;
}

/**
 * A careful operator's limits: real clients send their headers in one packet
 * and the relay's largest body (1 MiB) in well under 30 s even at 50 KB/s;
 * 5 s of keep-alive (Node's default) is enough to reuse a connection between
 * the requests of a page.
 */
export const DEFAULT_HTTP_LIMITS: HttpServerLimits = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 };

/** Node checks the headers and request deadlines on a timer; a coarse one would let a slow client stay that much longer. */
const MAX_CHECK_INTERVAL_MS = 1000;

/**
 * A node:http server listening on `host:port` with {@link HttpServerLimits};
 * a failure to listen becomes a {@link ListenError}.
 *
 * @example
 * const server = await listenHttp((req, res) => res.end('ok'), 0, '127.0.0.1', { headersTimeoutMs: 5000 });
 */
export async function listenHttp(
  handler: RequestListener,
  port: number,
  host: string,
  limits: Partial<HttpServerLimits> = {},
): Promise<RunningServer> {
  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = { ...DEFAULT_HTTP_LIMITS, ...limits };
  let active = 0;
  const server = createServer(
    {
      headersTimeout: headersTimeoutMs,
      // Node refuses a request deadline shorter than the headers one.
      requestTimeout: Math.max(requestTimeoutMs, headersTimeoutMs),
      keepAliveTimeout: keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(MAX_CHECK_INTERVAL_MS, Math.ceil(headersTimeoutMs / 4)),
    },
    (req, res) => {
      active++;
      res.once('close', () => active--);
      handler(req, res);
    },
  );
  server.on('connect', refuseConnect);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, host, port)));
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    activeRequests: () => active,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

/**
 * node:http hands a CONNECT request to a 'connect' listener and, without one,
 * drops the connection unanswered; this server is no proxy, so CONNECT gets
 * the 405 every other method but POST gets, in OpenAI's error format.
 */
function refuseConnect(_req: IncomingMessage, socket: Duplex): void {
  const body = JSON.stringify(openAIErrorBody('Method CONNECT is not allowed; this server is not a proxy.', 'invalid_request_error', 'method_not_allowed'));
  socket.on('error', () => undefined);
  // Read (and drop) whatever follows, so closing never resets the connection before the answer is read.
  socket.resume();
  socket.end(
    'HTTP/1.1 405 Method Not Allowed\r\nallow: POST\r\ncontent-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

/** A failure to listen, said plainly: `cannot listen on 127.0.0.1:8787: the address is in use (EADDRINUSE)`. */
export function listenError(error: NodeJS.ErrnoException, host: string, port: number): ListenError {
  const why = error.code === 'EADDRINUSE' ? 'the address is in use' : error.code === 'EACCES' ? 'permission denied' : error.message;
  return new ListenError(`cannot listen on ${host}:${port}: ${why}${error.code ? ` (${error.code})` : ''}; pick another --port`);
}
