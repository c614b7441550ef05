import { changeWaiters } from '../../src/testing/changeWaiters';

/**
 * Wakes a test waiting for a condition as soon as what it watches changes:
 * the code that changes it calls `changed()`, and `until` checks the
 * condition again then. No polling, and no sleep: the wait ends on the event.
 *
 * @example
 * const changes = watchChanges();
 * socket.on('close', () => { closed++; changes.changed(); });
 * await changes.until(() => closed === 2, 'two closed sockets');
 */
export interface Changes {
  changed(): void;
  /**
   * Resolves once `condition` holds: now, or after one of the next changes.
   * Rejects naming `what` after `timeoutMs`, which only bounds a failing test.
   */
  until(condition: () => boolean, what: string, timeoutMs?: number): Promise<void>;
}

export function watchChanges(): Changes {
  const changes = changeWaiters();
  return {
    changed: changes.changed,
    until: (condition, what, timeoutMs = 5000) =>
      changes.until(condition, timeoutMs, () => new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)),
  };
}

/** An array whose `push` wakes the tests waiting on it: for what hooks report (`onSettled` summaries, retries). */
export interface WatchedList<T> extends Array<T> {
  /** Resolves once the list holds at least `length` items. */
  reaches(length: number, what?: string, timeoutMs?: number): Promise<void>;
}

export function watchedList<T>(): WatchedList<T> {
  const changes = watchChanges();
  const list: T[] = [];
  // Not enumerable: the list still equals a plain array of its items.
  Object.defineProperties(list, {
    push: {
      value: (...items: T[]) => {
        const length = Array.prototype.push.apply(list, items);
        changes.changed();
        return length;
      },
    },
    reaches: {
      value: (length: number, what = `${length} items`, timeoutMs?: number) => changes.until(() => list.length >= length, what, timeoutMs),
    },
  });
  return list as WatchedList<T>;
}

/** The first item of `list` that `predicate` picks, once it was pushed. */
export async function firstMatch<T>(list: WatchedList<T>, predicate: (item: T) => boolean, what: string): Promise<T> {
  for (let seen = 1; ; seen++) {
    await list.reaches(seen, what);
    const found = list.find(predicate);
    if (found) return found;
  }
}
