import type { SchedulerLike, Subscription } from 'rxjs';

/**
 * `scheduler.schedule(work, delay)` for a timer that must not keep a Node
 * process alive (a deadline, a grace period, a retention): asyncScheduler's
 * action holds its Node timer as `id`, which is unref'd; virtual schedulers
 * and browsers have nothing to unref.
 *
 * @example
 * const limit = scheduleUnref(scheduler, () => controller.abort(), 10_000);
 */
export function scheduleUnref(scheduler: SchedulerLike, work: () => void, delay: number): Subscription {
  const action = scheduler.schedule(work, delay);
  (action as { id?: { unref?: () => void } }).id?.unref?.();
  return action;
}
