import { asyncScheduler, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { defineOperator } from '../defineOperator.js';

export interface PaceTextConfig {
  /**
   * The least time between two emissions; default 50 ms. With
   * `scheduler: animationFrameScheduler`, `0` means at most once per frame.
   */
  intervalMs?: number;
  /** Default `asyncScheduler`; `animationFrameScheduler` in browsers, a `TestScheduler` in tests. */
  scheduler?: SchedulerLike;
}

const DEFAULT_PACE_INTERVAL_MS = 50;

/**
 * Text deltas → batches of text, at most one per interval, so a view that
 * re-renders on every emission renders at a steady pace however fast tokens
 * arrive. The first delta after a quiet spell goes out at once; the deltas
 * arriving within the interval after an emission are joined and go out when it
 * ends. Nothing is lost or reordered, empty deltas are dropped, and on
 * complete or error the waiting text is flushed first, without waiting for
 * the interval.
 *
 * @example
 * // Angular: a signal updated at most once per animation frame, cancelled with the component.
 * @Component({ selector: 'app-answer', template: '<p>{{ answer() }}</p>' })
 * export class AnswerComponent {
 *   readonly answer = signal('');
 *   constructor() {
 *     inject(ChatService)
 *       .stream(params)
 *       .pipe(contentDeltas(), paceText({ scheduler: animationFrameScheduler, intervalMs: 0 }), takeUntilDestroyed())
 *       .subscribe((text) => this.answer.update((answer) => answer + text));
 *   }
 * }
 */
export function paceText(config: PaceTextConfig = {}): OperatorFunction<string, string> {
  const intervalMs = config.intervalMs ?? DEFAULT_PACE_INTERVAL_MS;
  const scheduler = config.scheduler ?? asyncScheduler;
  return defineOperator<string, string>((subscriber) => {
    // Joined once per emission: `+=` per delta would keep a cons-string node per delta alive for the interval
    // (at 500k deltas/s that survives young-generation collections and is copied by each); a slot is smaller.
    let waiting: string[] = [];
    // Set while the interval after an emission runs: deltas arriving then wait for it to end.
    let interval: Subscription | undefined;

    const emitWaiting = () => {
      const text = waiting.join('');
      waiting = [];
      subscriber.next(text);
    };
    // Each emission starts its interval first: a delta sent from inside the emission (a feedback loop) then
    // waits for it, and an emission that ends the subscription (take(1), a Stop button) finds the timer to cancel.
    const startInterval = () => {
      interval = scheduler.schedule(() => {
        interval = undefined;
        if (waiting.length === 0) return;
        startInterval();
        emitWaiting();
      }, intervalMs);
    };
    const flush = () => {
      interval?.unsubscribe();
      interval = undefined;
      if (waiting.length > 0) emitWaiting();
    };

    return {
      next(text) {
        if (!text) return;
        if (interval) {
          waiting.push(text);
          return;
        }
        // Nothing waits outside an interval: the delta goes out as it is.
        startInterval();
        subscriber.next(text);
      },
      error(error) {
        flush();
        subscriber.error(error);
      },
      complete() {
        flush();
        subscriber.complete();
      },
      finalize: () => interval?.unsubscribe(),
    };
  });
}
