import { undiciTransport } from '../../src/node';
import type { ByteStream, PromiseTransport } from '../../src/transport/types';

/**
 * A transport that counts what its caller (a relay) has read of the latest
 * response body, so that a test upstream can wait until its last write was
 * read before it writes again: each write then reaches the relay as its own
 * read, which the network alone does not promise. One request at a time.
 *
 * @example
 * const meter = meteredTransport();
 * const relay = createRelay({ baseURL, transport: meter.transport });
 * // in the upstream: res.write(first); await meter.hasRead(first.length); res.end(rest);
 */
export interface MeteredTransport {
  transport: PromiseTransport;
  /** Resolves once the latest response's body has been read up to `bytes` bytes. */
  hasRead(bytes: number): Promise<void>;
  /** The sizes of the reads of the latest response's body, in order. */
  reads(): number[];
}

export function meteredTransport(inner: PromiseTransport = undiciTransport()): MeteredTransport {
  let sizes: number[] = [];
  let received = 0;
  let waiters: Array<{ bytes: number; resolve: () => void }> = [];

  const count = (bytes: number) => {
    sizes.push(bytes);
    received += bytes;
    const ready = waiters.filter((waiter) => waiter.bytes <= received);
    waiters = waiters.filter((waiter) => waiter.bytes > received);
    for (const waiter of ready) waiter.resolve();
  };
  const metered = (body: ByteStream): ByteStream => ({
    read: (sink) =>
      body.read({
        data(chunk) {
          sink.data(chunk);
          count(chunk.byteLength);
        },
        end: () => sink.end(),
        error: (error) => sink.error(error),
      }),
    pause: () => body.pause(),
    resume: () => body.resume(),
    cancel: () => body.cancel(),
  });

  return {
    async transport(request) {
      sizes = [];
      received = 0;
      const response = await inner(request);
      return { ...response, body: metered(response.body) };
    },
    hasRead: (bytes) => (received >= bytes ? Promise.resolve() : new Promise((resolve) => waiters.push({ bytes, resolve }))),
    reads: () => [...sizes],
  };
}
