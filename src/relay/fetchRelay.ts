import type { Transport } from '../transport/types.js';
import { readerByteStream } from '../transport/fetchTransport.js';
import { BODY_TOO_LARGE, declaresTooMuch, readBodyText, type BodyText } from './relayBody.js';
import { startExchange } from './relayExchange.js';
import type { RelaySink } from './relaySink.js';
import { buildRelayRuntime } from './relayRuntime.js';
import type { RelayOptions } from './types.js';

export type FetchRelayOptions = RelayOptions<Request>;

/** A fetch-style handler: Next.js route handlers, Hono, Deno.serve, Bun.serve, workers. */
export type FetchRelay = (request: Request) => Promise<Response>;

/** Statuses a `Response` must have no body for. */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** Bytes the response stream holds for a slow client before reading upstream pauses. */
const STREAM_HIGH_WATER_MARK = 64 * 1024;

/**
 * The relay as `(Request) => Promise<Response>`; each entry point supplies its
 * default transport. The event stream is a pull-based `ReadableStream`:
 * upstream is read only while the stream wants more, and cancelling it or
 * aborting `request.signal` aborts the upstream request.
 */
export function buildFetchRelay(options: FetchRelayOptions & { transport: Transport }): FetchRelay {
  const relay = buildRelayRuntime(options);
  return (request) =>
    new Promise<Response>((resolve) => {
      const url = new URL(request.url);
      const header = (name: string) => request.headers.get(name) ?? undefined;
      startExchange(
        relay,
        { request, method: request.method, pathname: url.pathname, search: url.search.slice(1), header, readBody: (limit) => readRequestBody(request, limit) },
        fetchSink(request, resolve),
      );
    });
}

/** The client's side as a `Response`: a complete body, or a pull-based stream read only as fast as the client reads. */
function fetchSink(request: Request, resolve: (response: Response) => void): RelaySink {
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let drained: (() => void) | undefined;
  let closed: (() => void) | undefined;
  let gone = false;
  const clientGone = () => {
    request.signal.removeEventListener('abort', onAbort);
    if (gone) return;
    gone = true;
    closed?.();
  };
  const onAbort = () => {
    clientGone();
    // Nobody will read it; the promise must still settle.
    resolve(new Response(null, { status: 499 }));
  };
  const settled = () => request.signal.removeEventListener('abort', onAbort);
  return {
    send(status, headers, body) {
      settled();
      // The bytes are never in a SharedArrayBuffer: they come from a response or an encoder.
      resolve(new Response(NULL_BODY_STATUSES.has(status) ? null : (body as Uint8Array<ArrayBuffer>), { status, headers }));
    },
    open(status, headers) {
      const body = new ReadableStream<Uint8Array>(
        {
          start(streamController) {
            controller = streamController;
          },
          pull: () => drained?.(),
          cancel: clientGone,
        },
        new ByteLengthQueuingStrategy({ highWaterMark: STREAM_HIGH_WATER_MARK }),
      );
      resolve(new Response(body, { status, headers }));
    },
    write(chunk) {
      try {
        controller?.enqueue(chunk);
      } catch {
        // The stream was cancelled or errored by its reader: the client is gone.
        clientGone();
        return false;
      }
      return (controller?.desiredSize ?? 0) > 0;
    },
    end() {
      settled();
      controller?.close();
    },
    abort() {
      settled();
      controller?.error(new Error('The client took none of the response for too long'));
    },
    onDrain(callback) {
      drained = callback;
    },
    onClose(callback) {
      closed = callback;
      if (request.signal.aborted) onAbort();
      else request.signal.addEventListener('abort', onAbort, { once: true });
    },
  };
}

function readRequestBody(request: Request, limit: number): Promise<BodyText> {
  if (declaresTooMuch(request.headers.get('content-length'), limit)) return Promise.resolve(BODY_TOO_LARGE);
  return request.body ? readBodyText(readerByteStream(request.body), limit) : Promise.resolve('');
}
