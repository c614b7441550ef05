import { VirtualTimeScheduler } from 'rxjs';

/** Resolves once every microtask queued so far, and every one those queue, has run. */
export const microtasksRun = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Virtual time for specs that also wait on promises or real I/O, which
 * `TestScheduler.run` cannot: give it as the `scheduler` of the code under
 * test; nothing scheduled on it runs until the test moves it on, once the
 * event it waited for (a request arrived, a frame was read) has happened.
 *
 * @example
 * const clock = new VirtualClock();
 * const recording = record(sseFrames({ transport, url, timeout: { headersMs: 100 }, scheduler: clock }));
 * await server.waitForRequests(1);
 * clock.advanceBy(100); // the headers timeout fires now, not 100 ms from now
 */
export class VirtualClock extends VirtualTimeScheduler {
  /** Runs every action due within `ms`, in order of time, and leaves the clock `ms` later. */
  advanceBy(ms: number): void {
    const target = this.frame + ms;
    this.maxFrames = target;
    this.flush();
    this.frame = target;
  }

  /** Actions scheduled that have neither run nor been cancelled. */
  pending(): number {
    return this.actions.length;
  }

  /**
   * Moves the clock on by `ms` one action at a time, and lets the promise
   * work each action started finish before the next one runs, as Node runs
   * microtasks between two timers. For pipelines with no real I/O (a fetch
   * relay over a scripted transport), where that makes every step exact.
   */
  async play(ms: number): Promise<void> {
    const end = this.frame + ms;
    await microtasksRun();
    for (let action = this.actions[0]; action && action.delay <= end; action = this.actions[0]) {
      this.actions.shift();
      this.frame = action.delay;
      const error: unknown = action.execute(action.state, action.delay);
      if (error) throw error;
      await microtasksRun();
    }
    this.frame = end;
  }
}
