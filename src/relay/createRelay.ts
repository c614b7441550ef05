import type { IncomingMessage, ServerResponse } from 'node:http';
import { readableByteStream } from '../transport/readableByteStream.js';
import { BODY_TOO_LARGE, declaresTooMuch, readBodyText, type BodyText } from './relayBody.js';
import { startExchange } from './relayExchange.js';
import type { RelaySink } from './relaySink.js';
import { servesPath, tooDeep } from './relayRoutes.js';
import { buildRelayRuntime } from './relayRuntime.js';
import { onConnectionClose } from './connectionClose.js';
import { withNodeDefaults } from '../nodeDefaults.js';
import type { RelayOptions } from './types.js';

export type NodeRelayOptions = RelayOptions<IncomingMessage>;

/**
 * A `node:http` request handler. Given Express/Connect's `next`, requests for
 * paths outside the relay's routes are passed on instead of answered with 404.
 */
export type RelayHandler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

/**
 * A relay for `node:http` and Express: `POST {prefix}/chat/completions`,
 * `/completions` and `/responses` go upstream with the relay's own API key
 * and come back byte for byte, streamed as they arrive. Reading upstream
 * pauses while the client's socket is full; the upstream request is aborted as
 * soon as the client leaves. `apiKey` and `baseURL` default to
 * `OPENAI_API_KEY` and `OPENAI_BASE_URL`.
 *
 * @example
 * const relay = createRelay({ allowModels: ['gpt-4o-mini'], onSettled: (summary) => log(summary) });
 * createServer(relay).listen(8787);          // or: app.use(relay) in Express, before any body parser
 */
export function createRelay(options: NodeRelayOptions = {}): RelayHandler {
  const relay = buildRelayRuntime(withNodeDefaults(options));
  return (req, res, next) => {
    // Express strips a mount path from `url`; `originalUrl` keeps it.
    const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
    const [pathname, search = ''] = url.split(/\?(.*)/s, 2);
    if (next && !servesPath(relay.routes, relay.prefix, pathname)) {
      next();
      return;
    }
    // A reset connection emits 'error'; the exchange learns of it from 'close'.
    req.on('error', ignore);
    res.on('error', ignore);
    let bodyRefused = false;
    const readBody = async (limit: number) => {
      const body = await readNodeBody(req, limit);
      bodyRefused = body === BODY_TOO_LARGE;
      return body;
    };
    const header = (name: string) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    };
    startExchange(
      relay,
      { request: req, method: req.method ?? 'GET', pathname, search, header, readBody, turn: responseTurn(res) },
      nodeSink(req, res, () => bodyRefused),
    );
  };
}

/** Resolves once `res` owns the connection: at once, or when the responses queued before it on a pipelined connection are done. */
function responseTurn(res: ServerResponse): Promise<void> | undefined {
  if (res.socket) return undefined;
  return new Promise((resolve) => res.once('socket', () => resolve()));
}

function nodeSink(req: IncomingMessage, res: ServerResponse, bodyRefused: () => boolean): RelaySink {
  return {
    send(status, headers, body) {
      // The rest of a refused body is not read, so the connection cannot carry another request.
      if (bodyRefused()) res.shouldKeepAlive = false;
      res.writeHead(status, { ...headers, 'content-length': String(body.byteLength) });
      // The head goes out first: a `100 Continue` Node owes a pipelined request must not land inside this body.
      res.flushHeaders();
      res.end(body);
    },
    open(status, headers) {
      res.writeHead(status, headers);
      res.flushHeaders();
      res.socket?.setNoDelay(true);
    },
    write: (chunk) => res.write(chunk),
    end: () => res.end(),
    abort: () => res.destroy(),
    onDrain: (callback) => res.on('drain', callback),
    onClose(callback) {
      let gone = false;
      const clientGone = () => {
        stopWatching();
        if (gone || res.writableFinished) return;
        gone = true;
        callback();
      };
      // A response queued behind others on a pipelined connection emits no 'close' of its own: watch the socket too.
      const stopWatching = onConnectionClose(req.socket, clientGone);
      res.on('close', clientGone);
    },
  };
}

/** Reads the body up to `limit` bytes, or takes it from `req.body` when a body parser (Express) already did. */
function readNodeBody(req: IncomingMessage, limit: number): Promise<BodyText> {
  const parsed = (req as { body?: unknown }).body;
  if (parsed !== undefined) return Promise.resolve(parsedBodyText(parsed, limit));
  if (declaresTooMuch(req.headers['content-length'], limit)) return Promise.resolve(BODY_TOO_LARGE);
  if (req.readableEnded) return Promise.resolve('');
  // Past the limit the rest flows past unread and unkept; the 413 closes the connection.
  return readBodyText(readableByteStream(req, 'leave'), limit);
}

function parsedBodyText(body: unknown, limit: number): BodyText {
  const text = typeof body === 'string' ? body : body instanceof Uint8Array ? new TextDecoder().decode(body) : serialized(body);
  return Buffer.byteLength(text) > limit ? BODY_TOO_LARGE : text;
}

/** A body parser's value as JSON text; one nested too deep to serialize is refused like its text would be. */
function serialized(body: unknown): string {
  try {
    return JSON.stringify(body);
  } catch {
    throw tooDeep();
  }
}

function ignore(): void {}
