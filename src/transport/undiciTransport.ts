import { Agent, request, type Dispatcher } from 'undici';
import type { Readable } from 'node:stream';
import type { ByteSink, ByteStream, PromiseTransport } from './types.js';

export interface UndiciTransportConfig {
  /** Defaults to one keep-alive `Agent` shared by every undici transport in the process. */
  dispatcher?: Dispatcher;
}

let sharedAgent: Agent | undefined;

function defaultAgent(): Agent {
  sharedAgent ??= new Agent({ keepAliveTimeout: 10_000 });
  return sharedAgent;
}

/**
 * Node transport on undici's `request()`: the body is read as it arrives, and
 * aborting the signal destroys the socket of a response still in flight. Like
 * `request()` it follows no redirect (a dispatcher given here with a redirect
 * interceptor would): a 3xx ends the request with an `APIError`.
 *
 * @example
 * const client = createClient({ transport: undiciTransport({ dispatcher: new ProxyAgent(url) }) });
 */
export function undiciTransport(config: UndiciTransportConfig = {}): PromiseTransport {
  return async ({ url, method, headers, body, signal }) => {
    const response = await request(url, {
      method: method as Dispatcher.HttpMethod,
      headers,
      body,
      signal,
      dispatcher: config.dispatcher ?? defaultAgent(),
    });
    return {
      status: response.statusCode,
      headers: flattenHeaders(response.headers),
      body: readableByteStream(response.body),
    };
  };
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/** What cancelling a {@link readableByteStream} does to its stream once it stopped listening. */
export type ReadableRelease = 'destroy' | 'leave';

/**
 * Adapts a Node `Readable` (undici's body, an `IncomingMessage`) to a
 * {@link ByteStream}. A stream that closes before its end is an error. Cancel
 * stops listening and then destroys the stream (a response body: the socket
 * cannot be reused half-read), or with `'leave'` leaves it alone (a request
 * body whose rest is not wanted: the server still answers on its socket).
 */
export function readableByteStream(body: Readable, release: ReadableRelease = 'destroy'): ByteStream {
  let sink: ByteSink | undefined;
  const onData = (chunk: Uint8Array) => sink?.data(chunk);
  const onEnd = () => sink?.end();
  const onError = (error: unknown) => {
    body.off('close', onClose);
    sink?.error(error);
  };
  const onClose = () => {
    if (!body.readableEnded) sink?.error(new Error('The stream closed before its end'));
  };
  const stopListening = () => {
    body.off('data', onData);
    body.off('end', onEnd);
    body.off('error', onError);
    body.off('close', onClose);
  };
  return {
    read(target) {
      sink = target;
      body.on('data', onData);
      body.once('end', onEnd);
      body.once('error', onError);
      body.once('close', onClose);
    },
    pause: () => body.pause(),
    resume: () => body.resume(),
    cancel() {
      stopListening();
      if (release === 'leave') return;
      // Destroying emits an abort error that nobody wants; without a listener it would be thrown.
      body.on('error', () => undefined);
      body.destroy();
    },
  };
}
