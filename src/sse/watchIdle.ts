import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';

/** A quiet-period watch started by {@link watchIdle}. */
export interface IdleWatch {
  /** Something happened: the quiet period starts again. */
  touch(): void;
  stop(): void;
}

/**
 * Calls `onIdle` whenever `idleMs` pass without a `touch()`, then watches the
 * next quiet period. One scheduled action per quiet period rather than one
 * timer per touch: when it fires early it re-arms itself for the time left
 * since the last touch, so a touch costs one clock read. Runs on `scheduler`
 * (TestScheduler's virtual time under `run`).
 *
 * @example
 * const idle = watchIdle(15_000, () => write(': keep-alive\n\n'));
 * socket.on('data', idle.touch);
 */
export function watchIdle(idleMs: number, onIdle: () => void, scheduler: SchedulerLike = asyncScheduler): IdleWatch {
  let lastTouch = scheduler.now();
  let stopped = false;
  let action: Subscription | undefined;
  const check = () => {
    const quietFor = scheduler.now() - lastTouch;
    if (quietFor < idleMs) {
      action = scheduler.schedule(check, idleMs - quietFor);
      return;
    }
    lastTouch = scheduler.now();
    onIdle();
    if (!stopped) action = scheduler.schedule(check, idleMs);
  };
  action = scheduler.schedule(check, idleMs);
  return {
    touch() {
      lastTouch = scheduler.now();
    },
    stop() {
      stopped = true;
      action?.unsubscribe();
    },
  };
}
