/** The frame that called `setTimeout`, past the mock and jest-mock's own frames. */
function callerFrame(stack: string | undefined): string | undefined {
  return stack
    ?.split('\n')
    .find((line) => line.trimStart().startsWith('at ') && !line.includes('jest-mock') && !line.includes('helpers/timers'));
}

/**
 * Tracks the timers that code under test starts from one source file, so a
 * test can assert that every one of them has fired or been cleared.
 */
export interface TimerTracker {
  /** Timers started from the file that have neither fired nor been cleared. */
  live(): number;
  /** How many timers the file started in total. */
  started(): number;
  restore(): void;
}

/** `fileFragment` names the source file whose own `setTimeout` calls count (e.g. `'sse/sseFrames'`). */
export function trackTimers(fileFragment: string): TimerTracker {
  const realSetTimeout = globalThis.setTimeout;
  const realClearTimeout = globalThis.clearTimeout;
  const live = new Set<unknown>();
  let started = 0;
  const setSpy = jest.spyOn(globalThis, 'setTimeout').mockImplementation(((
    callback: (...args: unknown[]) => void,
    ms?: number,
    ...args: unknown[]
  ) => {
    const mine = callerFrame(new Error().stack)?.includes(fileFragment) ?? false;
    const handle = realSetTimeout(() => {
      live.delete(handle);
      callback(...args);
    }, ms);
    if (mine) {
      started++;
      live.add(handle);
    }
    return handle;
  }) as typeof setTimeout);
  const clearSpy = jest.spyOn(globalThis, 'clearTimeout').mockImplementation(((handle?: Parameters<typeof clearTimeout>[0]) => {
    live.delete(handle);
    realClearTimeout(handle);
  }) as typeof clearTimeout);
  return {
    live: () => live.size,
    started: () => started,
    restore() {
      setSpy.mockRestore();
      clearSpy.mockRestore();
    },
  };
}
