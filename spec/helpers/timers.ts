import { asyncScheduler, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';

/**
 * A scheduler that counts the actions scheduled on it, so a test can assert
 * that every timer the code under test started has fired or been cancelled.
 * Pass it as the `scheduler` option; it runs on `asyncScheduler`.
 */
export interface TrackedScheduler extends SchedulerLike {
  /** Actions scheduled that have neither run nor been unsubscribed. */
  live(): number;
  /** How many actions were scheduled in total. */
  started(): number;
}

export function trackedScheduler(base: SchedulerLike = asyncScheduler): TrackedScheduler {
  const live = new Set<object>();
  let started = 0;
  return {
    now: () => base.now(),
    schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay?: number, state?: T): Subscription {
      started++;
      const token = {};
      live.add(token);
      const action = base.schedule<T>(
        function (this: SchedulerAction<T>, value?: T) {
          live.delete(token);
          work.call(this, value);
        },
        delay,
        state,
      );
      action.add(() => live.delete(token));
      return action;
    },
    live: () => live.size,
    started: () => started,
  };
}
