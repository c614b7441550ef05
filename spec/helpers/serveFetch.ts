import { once } from 'node:events';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

/**
 * Serves a fetch handler (`createFetchRelay`) on node:http, as Next.js, Hono
 * or Deno do for it: the request's body is streamed in, a client that leaves
 * aborts `request.signal`, and the response body is read only as fast as the
 * client's socket takes it.
 *
 * @example
 * const relay = await listen(serveFetch(createFetchRelay({ baseURL })));
 */
export function serveFetch(handler: (request: Request) => Promise<Response>): RequestListener {
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
    for (const each of Array.isArray(value) ? value : [value]) if (each !== undefined) headers.append(name, each);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  return new Request(new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`), {
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
    if (!res.write(value)) await once(res, 'drain', { signal: clientGone });
  }
  res.end();
}
