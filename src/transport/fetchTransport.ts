import type { ByteSink, ByteStream, Transport } from './types.js';

export interface FetchTransportConfig {
  /** Defaults to `globalThis.fetch`, looked up on every request so that test doubles and polyfills apply. */
  fetch?: typeof globalThis.fetch;
}

/**
 * Transport on any WHATWG `fetch` (browsers, Deno, Bun, Node, workers).
 *
 * @example
 * const client = createClient({ baseURL: '/v1', transport: fetchTransport() });
 */
export function fetchTransport(config: FetchTransportConfig = {}): Transport {
  return async ({ url, method, headers, body, signal }) => {
    const fetchImpl = config.fetch ?? globalThis.fetch;
    const response = await fetchImpl(url, { method, headers, body, signal });
    const flat: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      flat[name] = value;
    });
    return { status: response.status, headers: flat, body: readerByteStream(response.body) };
  };
}

/** Adapts a WHATWG `ReadableStream` to a {@link ByteStream}; reading stops while paused. */
export function readerByteStream(stream: ReadableStream<Uint8Array> | null): ByteStream {
  const reader = stream?.getReader();
  let sink: ByteSink | undefined;
  let paused = false;
  let pumping = false;
  let cancelled = false;

  const pump = async () => {
    if (!reader || !sink) return;
    pumping = true;
    try {
      while (!paused && !cancelled) {
        const { done, value } = await reader.read();
        if (cancelled) return;
        if (done) {
          sink.end();
          return;
        }
        sink.data(value);
      }
    } catch (error) {
      if (!cancelled) sink.error(error);
    } finally {
      pumping = false;
    }
  };

  return {
    read(target) {
      sink = target;
      if (!reader) {
        target.end();
        return;
      }
      void pump();
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      if (sink && !pumping && !cancelled) void pump();
    },
    cancel() {
      cancelled = true;
      reader?.cancel().catch(() => undefined);
    },
  };
}
