/**
 * Waits on a condition that ends on the event which makes it hold, not on a poll: the code that changes what the
 * condition reads calls `changed()`, and every waiting condition is checked again then.
 *
 * @example
 * const changes = changeWaiters();
 * socket.on('close', () => { closed++; changes.changed(); });
 * await changes.until(() => closed === 2, 2000, () => new Error('the two sockets did not close'));
 */
export interface ChangeWaiters {
  changed(): void;
  /**
   * Resolves once `condition()` holds: now, or at one of the next changes. Rejects with what `condition` throws,
   * or with `timedOut()` after `timeoutMs` (which only bounds a wait that fails).
   */
  until(condition: () => boolean, timeoutMs: number, timedOut: () => Error): Promise<void>;
}

export function changeWaiters(): ChangeWaiters {
  const waiting = new Set<() => void>();
  return {
    changed() {
      // Called for every event a watched thing records (a frame written, a chunk read): nothing to do mostly.
      if (waiting.size === 0) return;
      for (const check of [...waiting]) check();
    },
    until: (condition, timeoutMs, timedOut) =>
      new Promise<void>((resolve, reject) => {
        const settle = (error?: Error) => {
          clearTimeout(timer);
          waiting.delete(check);
          if (error) reject(error);
          else resolve();
        };
        const check = () => {
          try {
            if (condition()) settle();
          } catch (error) {
            settle(error instanceof Error ? error : new Error(String(error)));
          }
        };
        const timer = setTimeout(() => settle(timedOut()), timeoutMs);
        waiting.add(check);
        check();
      }),
  };
}
