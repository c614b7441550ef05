import type { SchedulerLike, Subscription } from 'rxjs';
import { StreamTimeoutError, type TimeoutPhase } from '../errors.js';
import type { StreamTimeouts } from '../sse/types.js';
import { watchIdle, type IdleWatch } from '../sse/watchIdle.js';
import type { ByteStream } from '../transport/types.js';

/** The `timeout` limits of one non-streaming request, armed by {@link jsonDeadlines}. */
export interface JsonDeadlines {
  /** The response headers arrived: `headersMs` stops; returns `body`, whose reading is watched for gaps. */
  responded(body: ByteStream): ByteStream;
  /** The limit that fired, if one did. */
  expired(): StreamTimeoutError | undefined;
  /** Stops every timer; call it once the answer was read or failed. */
  clear(): void;
}

/**
 * A stream's `timeout` limits applied to a JSON answer: `headersMs` until the
 * response headers, then `idleMs` (else `firstEventMs`) as the longest gap
 * between two chunks of the body, `totalMs` throughout. The limit that fires
 * aborts `controller` (the upstream request and the reading of its body).
 *
 * @example
 * const deadlines = jsonDeadlines({ headersMs: 30_000, idleMs: 60_000 }, controller, asyncScheduler);
 * const response = await transport({ ...request, signal: controller.signal });
 * readText(deadlines.responded(response.body), limit).subscribe(…);
 */
export function jsonDeadlines(timeout: StreamTimeouts = {}, controller: AbortController, scheduler: SchedulerLike): JsonDeadlines {
  let expired: StreamTimeoutError | undefined;
  let gapWatch: IdleWatch | undefined;
  const clear = () => {
    headersTimer?.unsubscribe();
    totalTimer?.unsubscribe();
    gapWatch?.stop();
  };
  const expire = (phase: TimeoutPhase, timeoutMs: number) => {
    clear();
    expired = new StreamTimeoutError({ phase, timeoutMs });
    controller.abort(expired);
  };
  const after = (phase: TimeoutPhase, ms: number | undefined): Subscription | undefined =>
    ms === undefined ? undefined : scheduler.schedule(() => expire(phase, ms), ms);
  const totalTimer = after('total', timeout.totalMs);
  const headersTimer = after('headers', timeout.headersMs);

  return {
    responded(body) {
      headersTimer?.unsubscribe();
      const gapMs = timeout.idleMs ?? timeout.firstEventMs;
      if (gapMs === undefined || expired) return body;
      const phase: TimeoutPhase = timeout.idleMs === undefined ? 'first-event' : 'idle';
      const watch = watchIdle(gapMs, () => expire(phase, gapMs), scheduler);
      gapWatch = watch;
      return {
        read: (sink) =>
          body.read({
            data(chunk) {
              watch.touch();
              sink.data(chunk);
            },
            end: () => sink.end(),
            error: (error) => sink.error(error),
          }),
        pause: () => body.pause(),
        resume: () => body.resume(),
        cancel: () => body.cancel(),
      };
    },
    expired: () => expired,
    clear,
  };
}
