import type { ByteStream, PromiseTransport, TransportRequest } from '../../src/transport/types';
import { undiciTransport } from '../../src/transport/undiciTransport';

/** `transport` with each response's body replaced by what `wrap` makes of it (a spy on how the body is used). */
export function wrappingBodies(transport: PromiseTransport, wrap: (body: ByteStream, request: TransportRequest) => ByteStream): PromiseTransport {
  return async (request) => {
    const response = await transport(request);
    return { ...response, body: wrap(response.body, request) };
  };
}

/** undici's transport, telling `paused` each time the relay pauses (`true`) or resumes (`false`) reading a body. */
export function pauseWatchingTransport(paused: (value: boolean) => void): PromiseTransport {
  return wrappingBodies(undiciTransport(), (body) => ({
    ...body,
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
