/**
 * The fetch-style relay, `(Request) => Promise<Response>`, as used in a Next.js route handler, Hono, Deno.serve or
 * Bun.serve:
 *
 *   // app/api/v1/[...path]/route.ts (Next.js)
 *   const relay = createFetchRelay({ prefix: '/api/v1' });
 *   export const POST = (request: Request) => relay(request);
 *
 * Here it is served by node:http through a small Request/Response adapter (the part those frameworks provide),
 * which keeps the two properties that matter: a client that leaves aborts `request.signal`, and the response body
 * is read only as fast as the client's socket takes it.
 *
 *   OPENAI_API_KEY=sk-... node --import tsx examples/fetch-relay.ts
 *
 * Environment: OPENAI_API_KEY (required), OPENAI_BASE_URL, PORT (default 8787, 0 picks a free port),
 * HOST (default 127.0.0.1). In your own project import from 'openai-rx' instead of '../src/index.node.js'.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable, type Duplex } from 'node:stream';
import { createFetchRelay } from '../src/index.node.js';

if (!process.env.OPENAI_API_KEY) {
  console.error('Set OPENAI_API_KEY: the relay calls the provider with its own key.');
  process.exit(1);
}

const relay = createFetchRelay({
  timeout: { headersMs: 30_000, firstEventMs: 60_000, idleMs: 60_000, totalMs: 600_000 },
  onSettled: ({ outcome, status, route, model, durationMs, bytes, usage, requestId }) =>
    console.log(JSON.stringify({ outcome, status, route, model, durationMs, bytes, usage, requestId })),
});

/** Methods the fetch `Request` constructor throws for. */
const METHODS_FETCH_FORBIDS = new Set(['CONNECT', 'TRACE', 'TRACK']);

/** Serves a fetch handler on node:http. */
function serveFetch(handler: (request: Request) => Promise<Response>): RequestListener {
  return (req, res) => {
    const clientGone = new AbortController();
    const leave = () => {
      if (!res.writableFinished) clientGone.abort();
    };
    res.on('close', leave);
    // A pipelined request's response waits in a queue and emits no 'close' when the client leaves; its socket does.
    const unwatch = onSocketClose(req.socket, leave);
    res.once('finish', unwatch);
    // The client left while the request body was still arriving.
    req.on('close', () => {
      if (!req.complete) leave();
    });
    let request: Request;
    try {
      request = toRequest(req, clientGone.signal);
    } catch {
      // The relay would refuse these anyway; `new Request()` refuses them first, by throwing.
      if (METHODS_FETCH_FORBIDS.has(req.method ?? '')) sendError(res, 405, `Method ${req.method} is not allowed; use POST.`, 'method_not_allowed');
      else sendError(res, 400, 'The request cannot be read.', null);
      return;
    }
    handler(request)
      .then((response) => (clientGone.signal.aborted ? response.body?.cancel() : writeResponse(response, res, clientGone.signal)))
      .catch(() => res.destroy());
  };
}

const socketCloseListeners = new WeakMap<Socket, Set<() => void>>();

/** Runs `listener` when `socket` closes: one 'close' listener per socket, however many requests are pipelined on it. */
function onSocketClose(socket: Socket, listener: () => void): () => void {
  if (socket.destroyed) {
    listener();
    return () => undefined;
  }
  let listeners = socketCloseListeners.get(socket);
  if (!listeners) {
    const created = new Set<() => void>();
    socketCloseListeners.set(socket, created);
    socket.once('close', () => {
      for (const each of [...created]) each();
      created.clear();
    });
    listeners = created;
  }
  listeners.add(listener);
  const added = listeners;
  return () => added.delete(listener);
}

/** An error in OpenAI's format, as the relay answers its own refusals. */
function sendError(res: ServerResponse, status: number, message: string, code: string | null): void {
  const body = JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code } });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    ...(status === 405 ? { allow: 'POST' } : {}),
  });
  res.end(body);
}

function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const item of value) headers.append(name, item);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  return new Request(new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`), {
    method: req.method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    signal,
    duplex: 'half',
  } as RequestInit);
}

async function writeResponse(response: Response, res: ServerResponse, clientGone: AbortSignal): Promise<void> {
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.flushHeaders();
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  clientGone.addEventListener('abort', () => void reader.cancel().catch(() => undefined), { once: true });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    // Backpressure: the next chunk is read only when the client's socket has room.
    if (!res.write(value)) await once(res, 'drain', { signal: clientGone });
  }
  res.end();
}

const server = createServer(serveFetch(relay));
server.on('connect', refuseConnect);
server.listen(Number(process.env.PORT ?? 8787), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address() as AddressInfo;
  console.log(`openai-rx relay listening on http://${address}:${port}/v1`);
});

/** node:http hands CONNECT to a 'connect' listener and, without one, drops the connection unanswered; this is no proxy. */
function refuseConnect(_req: IncomingMessage, socket: Duplex): void {
  const body = JSON.stringify({ error: { message: 'Method CONNECT is not allowed; use POST.', type: 'invalid_request_error', param: null, code: 'method_not_allowed' } });
  socket.on('error', () => undefined);
  socket.resume();
  socket.end(
    `HTTP/1.1 405 Method Not Allowed\r\nallow: POST\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}
