import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { watchChanges } from '../helpers/changes';
import { chatData, sseHead, type Handler } from '../helpers/server';

/** A handler served on 127.0.0.1:0, its open connections counted. */
export interface Listening {
  url: string;
  openConnections(): number;
  close(): Promise<void>;
}

export async function listen(handler: RequestListener): Promise<Listening> {
  const server = createServer(handler);
  let open = 0;
  server.on('connection', (socket) => {
    open++;
    socket.once('close', () => open--);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    openConnections: () => open,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json(): unknown;
}

export interface RawRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Written as one piece (with content-length unless `chunked`). */
  body?: string | Buffer;
  /** Send the body with chunked transfer encoding (no content-length). */
  chunked?: boolean;
}

/** A plain node:http request: the exact response body bytes, nothing parsed on the way. */
export function rawRequest(url: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
    if (options.body !== undefined && !options.chunked) headers['content-length'] = String(Buffer.byteLength(options.body));
    const req = request(url, { method: options.method ?? 'POST', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const text = body.toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json: () => JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** An OpenAI chat stream as the wire carries it: keep-alive comments between chunks, usage, then `[DONE]`. */
export const CHAT_STREAM_PARTS = [
  ': OPENROUTER PROCESSING\n\n',
  chatData('Hel'),
  ': keep-alive\n\n',
  chatData('lo, wörld 👋'),
  chatData('', 'stop'),
  `data: ${JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [],
    usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
  })}\n\n`,
  'data: [DONE]\n\n',
];

export const CHAT_BODY = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }], stream: true };

/** A response read as it arrives, for tests that act in the middle of a stream. */
export interface OpenStream {
  status: number;
  headers: IncomingHttpHeaders;
  /** Everything received so far, as text. */
  text(): string;
  /** Resolves when the received text contains `needle`. */
  waitFor(needle: string, timeoutMs?: number): Promise<void>;
  /** Resolves when the response has ended cleanly, with `performance.now()` at its end. */
  ended(timeoutMs?: number): Promise<number>;
  /** Destroys the connection, as a closed tab does. */
  abort(): void;
}

export interface OpenRequest {
  /** Default: POST with a body, else GET. */
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
}

/** POSTs `body` as JSON and reads the answer as it arrives. */
export function openStream(url: string, body: unknown, headers: Record<string, string> = {}): Promise<OpenStream> {
  return openResponse(url, { body, headers });
}

/**
 * One request on a connection of its own; resolves with the response head, then reads the body as it comes. The
 * request is sent before the Promise's closure is made, which would otherwise keep the body as long as the
 * response's listeners live (spec/requestBodyFootprint.spec.ts counts what a relay keeps of it).
 */
export function openResponse(url: string, { method, headers, body }: OpenRequest = {}): Promise<OpenStream> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const sentHeaders = payload === undefined ? { ...headers } : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)), ...headers };
  const req = request(url, { method: method ?? (payload === undefined ? 'GET' : 'POST'), headers: sentHeaders, agent: false });
  req.end(payload);
  return new Promise((resolve, reject) => {
    req.once('response', (res: IncomingMessage) => {
      let text = '';
      let endedAt: number | undefined;
      const changes = watchChanges();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        changes.changed();
      });
      res.on('end', () => {
        endedAt = performance.now();
        changes.changed();
      });
      res.on('error', () => undefined);
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        text: () => text,
        waitFor: (needle, timeoutMs) => changes.until(() => text.includes(needle), `'${needle}' in the response from ${url}`, timeoutMs),
        ended: async (timeoutMs) => {
          await changes.until(() => endedAt !== undefined, `the end of the response from ${url}`, timeoutMs);
          return endedAt as number;
        },
        abort: () => req.destroy(),
      });
    });
    req.on('error', (error) => reject(error));
  });
}

export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A provider that writes the parts one by one, each in its own network write, then ends. */
export const streamParts =
  (parts: string[], headers: Record<string, string> = {}): Handler =>
  async (_req, res) => {
    sseHead(res, headers);
    for (const part of parts) {
      res.write(part);
      await nextTurn();
    }
    res.end();
  };

/** A provider that sends one chunk and keeps the stream open until the relay leaves. */
export const hangAfterOneFrame: Handler = (_req, res) => {
  sseHead(res);
  res.write(chatData('Hel'));
};

/** A chat provider: a model whose name ends in `hang` gets {@link hangAfterOneFrame}, any other the whole chat stream. */
export const chatProvider =
  (headers: Record<string, string> = {}): Handler =>
  (req, res, recorded) =>
    (JSON.parse(recorded.body) as { model: string }).model.endsWith('hang')
      ? hangAfterOneFrame(req, res, recorded)
      : streamParts(CHAT_STREAM_PARTS, headers)(req, res, recorded);

/** CHAT_STREAM_PARTS (a comment, event 1, a comment, events 2–5) with everything from part `heldFrom` on held back until `release()`. */
export function gatedProvider(heldFrom: number): { handler: Handler; release(): void } {
  let released = false;
  const waiting: Array<() => void> = [];
  const gate = () => (released ? Promise.resolve() : new Promise<void>((resolve) => waiting.push(resolve)));
  return {
    handler: async (_req, res) => {
      sseHead(res);
      for (const [index, part] of CHAT_STREAM_PARTS.entries()) {
        if (index === heldFrom) await gate();
        if (res.destroyed) return;
        res.write(part);
        await nextTurn();
      }
      res.end();
    },
    release() {
      released = true;
      for (const resolve of waiting.splice(0)) resolve();
    },
  };
}

/** Reads a fetch body until `needle` arrived; returns the reader so the test can go on or cancel (as a closed tab does). */
export async function readUntil(response: Response, needle: string): Promise<{ reader: ReadableStreamDefaultReader<Uint8Array>; text: string }> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (let reads = 0; !text.includes(needle) && reads < 1000; reads++) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return { reader, text };
}
