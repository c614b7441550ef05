import { defer, identity, tap, type MonoTypeOperatorFunction, type Observable } from 'rxjs';
import type { SseFrame } from '../sse/types.js';
import type { OperationStart, OperationTelemetry, Telemetry } from './types.js';

/**
 * The Observable `build` makes, with one telemetry operation per
 * subscription: started at subscribe, fed every raw frame through the
 * operator `build` places on its frames, and ended once, when the Observable
 * completes, errors or is unsubscribed (a cancellation). Without `telemetry`
 * the operator is `identity` and nothing is added, not even per frame.
 *
 * @example
 * observeOperation(telemetry, () => ({ endpoint: 'chat/completions', model, url }), (read) => frames$.pipe(read, chatChunks()));
 */
export function observeOperation<T>(
  telemetry: Telemetry | undefined,
  start: () => OperationStart,
  build: (readFrames: MonoTypeOperatorFunction<SseFrame>) => Observable<T>,
): Observable<T> {
  if (!telemetry) return build(identity);
  return defer(() => recorded(telemetry.startOperation(start()), build));
}

/**
 * Outside `defer`'s closure, so that the taps, which live as long as the stream, do not keep `start` and `build`:
 * through them the caller's params.
 */
function recorded<T>(operation: OperationTelemetry, build: (readFrames: MonoTypeOperatorFunction<SseFrame>) => Observable<T>): Observable<T> {
  return build(tap((frame) => operation.frame(frame))).pipe(
    tap({
      complete: () => operation.end(),
      error: (error: unknown) => operation.end({ error }),
      unsubscribe: () => operation.end({ cancelled: true }),
    }),
  );
}
