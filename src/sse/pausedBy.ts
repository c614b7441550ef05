import type { Observable } from 'rxjs';
import { OpenAIRxError } from '../errors.js';
import type { StreamPlumbing } from './sseFrames.js';

/**
 * The relay's backpressure on an upstream body: while `pause$` says `true` the body is not read, so the
 * server's writes wait in TCP. A `pause$` that fails ends the stream with an `OpenAIRxError`. Kept out of
 * `sseFrames` itself, which every browser bundle carries and no browser pauses.
 *
 * @example
 * const pause$ = new BehaviorSubject(false); // the frame log says true when full, false when it has room
 * eventStream(request, pausedBy(pause$)).subscribe(write);
 */
export function pausedBy(pause$: Observable<boolean>): StreamPlumbing {
  return {
    control(body, paused, fail) {
      let isPaused = false;
      return pause$.subscribe({
        next(pause) {
          if (pause === isPaused) return;
          isPaused = pause;
          paused(pause);
          if (pause) body.pause();
          else body.resume();
        },
        error: (cause: unknown) => fail(new OpenAIRxError({ message: 'The pause signal of the stream failed', cause })),
      });
    },
  };
}
