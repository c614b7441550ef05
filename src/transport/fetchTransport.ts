import type { ByteSink, ByteStream, PromiseTransport } from './types.js';

export interface FetchTransportConfig {
  /** Defaults to `globalThis.fetch`, looked up on every request so that test doubles and polyfills apply. */
  fetch?: typeof globalThis.fetch;
}

/**
 * Transport on any WHATWG `fetch` (browsers, Deno, Bun, Node, workers). It
 * never follows a redirect: fetch would resend the prompt and the `api-key` /
 * `x-api-key` headers to whatever origin upstream names. A redirect comes back
 * as it is, a 3xx (Node, Deno, workers) or a browser's opaque redirect with
 * status 0, and ends the request with an `APIError`.
 *
 * @example
 * const client = createClient({ baseURL: '/v1', transport: fetchTransport() });
 */
export function fetchTransport(config: FetchTransportConfig = {}): PromiseTransport {
  return async ({ url, method, headers, body, signal, keepalive }) => {
    const fetchImpl = config.fetch ?? globalThis.fetch;
    // 'manual', not 'error': fetch's 'error' rejects like a network failure (retried, status unknown).
    const response = await fetchImpl(url, { method, headers, body, signal, redirect: 'manual', keepalive });
    const flat: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      flat[name] = value;
    });
    return { status: response.status, headers: flat, body: readerByteStream(response.body) };
  };
}

/**
 * Adapts a WHATWG `ReadableStream` to a {@link ByteStream}. Pausing is exact: a
 * read already under way when `pause()` is called is held back until `resume()`.
 */
export function readerByteStream(stream: ReadableStream<Uint8Array> | null): ByteStream {
  const reader = stream?.getReader();
  let sink: ByteSink | undefined;
  let paused = false;
  let pumping = false;
  let cancelled = false;
  let held: ReadableStreamReadResult<Uint8Array> | undefined;

  const deliver = (result: ReadableStreamReadResult<Uint8Array>): boolean => {
    if (result.done) sink?.end();
    else sink?.data(result.value);
    return !result.done;
  };

  const pump = async () => {
    if (!reader || pumping) return;
    pumping = true;
    try {
      while (!paused && !cancelled) {
        const result = await reader.read();
        if (cancelled) return;
        if (paused) {
          held = result;
          return;
        }
        if (!deliver(result)) return;
      }
    } catch (error) {
      if (!cancelled) sink?.error(error);
    } finally {
      pumping = false;
    }
  };

  return {
    read(target) {
      sink = target;
      if (!reader) target.end();
      else void pump();
    },
    pause() {
      paused = true;
    },
    resume() {
      if (!paused || cancelled) return;
      paused = false;
      const result = held;
      held = undefined;
      if (result && !deliver(result)) return;
      if (!paused) void pump();
    },
    cancel() {
      cancelled = true;
      held = undefined;
      reader?.cancel().catch(() => undefined);
    },
  };
}
