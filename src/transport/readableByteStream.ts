import type { Readable } from 'node:stream';
import type { ByteSink, ByteStream } from './types.js';

/** What cancelling a {@link readableByteStream} does to its stream once it stopped listening. */
export type ReadableRelease = 'destroy' | 'leave';

/**
 * Adapts a Node `Readable` (a request's `IncomingMessage`, a response body) to a
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
