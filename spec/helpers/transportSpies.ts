import type { ByteStream, PromiseTransport, TransportRequest } from '../../src/transport/types';
import { undiciTransport } from '../../src/transport/undiciTransport';

/** `body` with some of its methods replaced. A body may be a class instance (undici's is), whose methods a spread would lose. */
export function overriding(body: ByteStream, methods: Partial<ByteStream>): ByteStream {
  return { read: (sink) => body.read(sink), pause: () => body.pause(), resume: () => body.resume(), cancel: () => body.cancel(), ...methods };
}

/** `transport` with each response's body replaced by what `wrap` makes of it (a spy on how the body is used). */
export function wrappingBodies(transport: PromiseTransport, wrap: (body: ByteStream, request: TransportRequest) => ByteStream): PromiseTransport {
  return async (request) => {
    const response = await transport(request);
    return { ...response, body: wrap(response.body, request) };
  };
}

/** undici's transport, telling `paused` each time the relay pauses (`true`) or resumes (`false`) reading a body. */
export function pauseWatchingTransport(paused: (value: boolean) => void): PromiseTransport {
  return wrappingBodies(undiciTransport(), (body) =>
    overriding(body, {
    pause() {
      body.pause();
      paused(true);
    },
    resume() {
      paused(false);
      body.resume();
    },
  }));
}
