import { TestScheduler } from 'rxjs/testing';

/**
 * A TestScheduler whose comparison tells errors apart by class and fields:
 * Jest's `toEqual` compares two errors by their message alone.
 *
 * @example
 * marbleScheduler().run(({ expectObservable }) =>
 *   expectObservable(frames$).toBe('100ms #', undefined, new StreamTimeoutError({ phase: 'headers', timeoutMs: 100 })),
 * );
 */
export function marbleScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(errorsShown(actual)).toEqual(errorsShown(expected)));
}

interface Message {
  notification?: { kind?: string; error?: unknown };
}

/** Each error notification's error as a plain object: its class, its message and its own fields. */
function errorsShown(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((message: Message) => {
    const { notification } = message;
    if (notification?.kind !== 'E' || !(notification.error instanceof Error)) return message;
    const error = notification.error;
    return { ...message, notification: { ...notification, error: { ...error, class: error.constructor.name, message: error.message } } };
  });
}
