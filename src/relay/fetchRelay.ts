import type { Transport } from '../transport/types.js';
import { readerByteStream } from '../transport/fetchTransport.js';
import { BODY_TOO_LARGE, declaresTooMuch, readBodyText, type BodyText } from './relayBody.js';
import { startExchange, type RelayExchange, type RelayResponder } from './relayExchange.js';
import { buildRelayRuntime } from './relayRuntime.js';
import type { RelayOptions } from './types.js';

export type FetchRelayOptions = RelayOptions<Request>;

/** A fetch-style handler: Next.js route handlers, Hono, Deno.serve, Bun.serve, workers. */
export type FetchRelay = (request: Request) => Promise<Response>;

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
      let exchange: RelayExchange | undefined;
      let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
      const clientClosed = () => {
        request.signal.removeEventListener('abort', onAbort);
        exchange?.clientClosed();
      };
      const onAbort = () => {
        clientClosed();
        // Nobody will read it; the promise must still settle.
        resolve(new Response(null, { status: 499 }));
      };
      const responder: RelayResponder = {
        send(status, headers, body) {
          request.signal.removeEventListener('abort', onAbort);
          resolve(new Response(body, { status, headers }));
        },
        open(status, headers) {
          const body = new ReadableStream<Uint8Array>(
            {
              start(streamController) {
                controller = streamController;
              },
              pull: () => exchange?.resume(),
              cancel: clientClosed,
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
            clientClosed();
            return false;
          }
          return (controller?.desiredSize ?? 0) > 0;
        },
        end() {
          request.signal.removeEventListener('abort', onAbort);
          controller?.close();
        },
        abort() {
          request.signal.removeEventListener('abort', onAbort);
          controller?.error(new Error('The client took none of the response for too long'));
        },
      };
      const url = new URL(request.url);
      exchange = startExchange(
        relay,
        { request, method: request.method, pathname: url.pathname, readBody: (limit) => readRequestBody(request, limit) },
        responder,
      );
      if (request.signal.aborted) onAbort();
      else request.signal.addEventListener('abort', onAbort, { once: true });
    });
}

function readRequestBody(request: Request, limit: number): Promise<BodyText> {
  if (declaresTooMuch(request.headers.get('content-length'), limit)) return Promise.resolve(BODY_TOO_LARGE);
  return request.body ? readBodyText(readerByteStream(request.body), limit) : Promise.resolve('');
}
