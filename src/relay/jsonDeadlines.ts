import { StreamTimeoutError, type TimeoutPhase } from '../errors.js';
import type { StreamTimeouts } from '../sse/types.js';
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
 * const deadlines = jsonDeadlines({ headersMs: 30_000, idleMs: 60_000 }, controller, performance.now.bind(performance));
 * const response = await transport({ ...request, signal: controller.signal });
 * const { text } = await readText(deadlines.responded(response.body), limit, controller.signal);
 * deadlines.clear();
 */
export function jsonDeadlines(timeout: StreamTimeouts = {}, controller: AbortController, now: () => number): JsonDeadlines {
  let expired: StreamTimeoutError | undefined;
  let phaseTimer: ReturnType<typeof setTimeout> | undefined;
  let totalTimer: ReturnType<typeof setTimeout> | undefined;
  const clear = () => {
    clearTimeout(phaseTimer);
    clearTimeout(totalTimer);
  };
  const expire = (phase: TimeoutPhase, ms: number) => {
    clear();
    expired = new StreamTimeoutError({ phase, timeoutMs: ms });
    controller.abort(expired);
  };
  const after = (phase: TimeoutPhase, ms: number | undefined) =>
    ms === undefined ? undefined : setTimeout(() => expire(phase, ms), ms);
  totalTimer = after('total', timeout.totalMs);
  phaseTimer = after('headers', timeout.headersMs);

  return {
    responded(body) {
      clearTimeout(phaseTimer);
      const gapMs = timeout.idleMs ?? timeout.firstEventMs;
      if (gapMs === undefined) return body;
      const phase: TimeoutPhase = timeout.idleMs === undefined ? 'first-event' : 'idle';
      let lastChunkAt = now();
      // One timer per stall instead of one per chunk: it re-arms itself for the time left since the last chunk.
      const watch = (waitMs: number) => {
        phaseTimer = setTimeout(() => {
          const quietFor = now() - lastChunkAt;
          if (quietFor >= gapMs) expire(phase, gapMs);
          else watch(gapMs - quietFor);
        }, waitMs);
      };
      watch(gapMs);
      return {
        read: (sink) =>
          body.read({
            data(chunk) {
              lastChunkAt = now();
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
