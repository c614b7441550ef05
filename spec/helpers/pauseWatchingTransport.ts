import type { PromiseTransport } from '../../src/transport/types';
import { undiciTransport } from '../../src/transport/undiciTransport';

/** undici's transport, telling `paused` each time the relay pauses (`true`) or resumes (`false`) reading a body. */
export function pauseWatchingTransport(paused: (value: boolean) => void): PromiseTransport {
  const transport = undiciTransport();
  return async (request) => {
    const response = await transport(request);
    const { body } = response;
    return {
      ...response,
      body: {
        ...body,
        pause() {
          body.pause();
          paused(true);
        },
        resume() {
          paused(false);
          body.resume();
        },
      },
    };
  };
}
