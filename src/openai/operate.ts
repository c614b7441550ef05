import { Observable, type OperatorFunction, type Subscriber } from 'rxjs';

/** What an operator does with its source's values, and with its error (passed on unchanged by default). */
export interface OperatorHandlers<In> {
  next(value: In): void;
  error?(error: unknown): void;
}

/**
 * The shell of the operators in this folder: `setup` runs once per
 * subscription and returns the handlers for the source's notifications;
 * completion is passed on. A `next` handler that throws (a bug, a value with a
 * throwing getter) ends the stream with what it threw, at once: unguarded, RxJS
 * would rethrow it asynchronously, crashing Node, while the stream went on. An
 * `error` handler that throws lets the source's error through, which says more.
 */
export function operate<In, Out>(setup: (subscriber: Subscriber<Out>) => OperatorHandlers<In>): OperatorFunction<In, Out> {
  return (source) =>
    new Observable<Out>((subscriber) => {
      const handlers = setup(subscriber);
      return source.subscribe({
        next(value) {
          try {
            handlers.next(value);
          } catch (thrown) {
            subscriber.error(thrown);
          }
        },
        error(error: unknown) {
          try {
            if (handlers.error) handlers.error(error);
            else subscriber.error(error);
          } catch {
            subscriber.error(error);
          }
        },
        complete: () => subscriber.complete(),
      });
    });
}
