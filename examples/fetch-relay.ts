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
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { createFetchRelay } from '../src/index.node.js';

if (!process.env.OPENAI_API_KEY) {
  console.error('Set OPENAI_API_KEY: the relay calls the provider with its own key.');
  process.exit(1);
}

const relay = createFetchRelay({
  timeout: { headersMs: 30_000, idleMs: 60_000 },
  onSettled: ({ outcome, status, route, model, durationMs, bytes, usage, requestId }) =>
    console.log(JSON.stringify({ outcome, status, route, model, durationMs, bytes, usage, requestId })),
});

/** Serves a fetch handler on node:http. */
function serveFetch(handler: (request: Request) => Promise<Response>): RequestListener {
  return (req, res) => {
    const clientGone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) clientGone.abort();
    });
    handler(toRequest(req, clientGone.signal))
      .then((response) => writeResponse(response, res, clientGone.signal))
      .catch(() => res.destroy());
  };
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
server.listen(Number(process.env.PORT ?? 8787), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address() as AddressInfo;
  console.log(`openai-rx relay listening on http://${address}:${port}/v1`);
});
