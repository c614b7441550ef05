/**
 * Counts the timers started from now on with the global `setTimeout` / `setInterval` (RxJS's `asyncScheduler`
 * and the Redis store use them) that have neither fired nor been cleared. `getActiveResourcesInfo()` would not
 * see unref'd ones. `restore()` puts the originals back.
 *
 * @example
 * const timers = trackGlobalTimers();
 * try { await work(); expect(timers.live()).toBe(0); } finally { timers.restore(); }
 */
export function trackGlobalTimers(): { live(): number; restore(): void } {
  const original = { setTimeout, setInterval, clearTimeout, clearInterval };
  const live = new Set<unknown>();
  const timers = globalThis as unknown as Record<keyof typeof original, (...args: unknown[]) => unknown>;
  timers.setTimeout = (callback: unknown, ms?: unknown, ...args: unknown[]) => {
    const handle = original.setTimeout(
      (...values: unknown[]) => {
        live.delete(handle);
        (callback as (...values: unknown[]) => void)(...values);
      },
      ms as number,
      ...args,
    );
    live.add(handle);
    return handle;
  };
  timers.setInterval = (callback: unknown, ms?: unknown, ...args: unknown[]) => {
    const handle = original.setInterval(callback as () => void, ms as number, ...args);
    live.add(handle);
    return handle;
  };
  timers.clearTimeout = (handle: unknown) => {
    live.delete(handle);
    original.clearTimeout(handle as NodeJS.Timeout);
  };
  timers.clearInterval = (handle: unknown) => {
    live.delete(handle);
    original.clearInterval(handle as NodeJS.Timeout);
  };
  return { live: () => live.size, restore: () => Object.assign(globalThis, original) };
}
