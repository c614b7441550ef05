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
 * Adapts a WHATWG `ReadableStream` to a {@link ByteStream}. Pausing is exact: no
 * read starts while paused, and a read already under way when `pause()` is
 * called is held back until `resume()`.
 */
export function readerByteStream(stream: ReadableStream<Uint8Array> | null): ByteStream {
  const reader = stream?.getReader();
  let cancelled = false;
  /** Pending while paused; `resume()` settles it. */
  let paused: Promise<void> | undefined;
  let release = () => {};
  const resume = () => {
    release();
    paused = undefined;
  };

  const pump = async (source: ReadableStreamDefaultReader<Uint8Array>, sink: ByteSink) => {
    try {
      for (;;) {
        while (paused) await paused;
        if (cancelled) return;
        const result = await source.read();
        while (paused) await paused;
        if (cancelled) return;
        if (result.done) return sink.end();
        sink.data(result.value);
      }
    } catch (error) {
      if (!cancelled) sink.error(error);
    }
  };

  return {
    read(sink) {
      if (reader) void pump(reader, sink);
      else sink.end();
    },
    pause() {
      if (!cancelled) paused ??= new Promise((resolve) => (release = resolve));
    },
    resume,
    cancel() {
      cancelled = true;
      // Resumed, not only released: a pump waiting while paused must see the pause end, or it awaits the settled
      // promise forever in microtasks and starves the process.
      resume();
      reader?.cancel().catch(() => undefined);
    },
  };
}
