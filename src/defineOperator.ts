import { Observable, type OperatorFunction, type Subscriber } from 'rxjs';

/** What an operator does with its source's notifications; `error` and `complete` are passed on unless given. */
export interface OperatorHandlers<In> {
  next(value: In): void;
  error?(error: unknown): void;
  complete?(): void;
  /** Runs once at teardown, however the subscription ended (timers, buffers). */
  finalize?(): void;
}

/**
 * The one way openai-rx writes an operator: `setup` runs once per subscription
 * and returns the handlers for the source's notifications. A handler that
 * throws (a bug, a value with a throwing getter) ends the stream with what it
 * threw, at once: unguarded, RxJS would rethrow it asynchronously, crashing
 * Node, while the stream went on. An `error` handler that throws lets the
 * source's error through, which says more.
 *
 * @example
 * const upperCase = () => defineOperator<string, string>((subscriber) => ({ next: (text) => subscriber.next(text.toUpperCase()) }));
 */
export function defineOperator<In, Out>(setup: (subscriber: Subscriber<Out>) => OperatorHandlers<In>): OperatorFunction<In, Out> {
  return (source) =>
    new Observable<Out>((subscriber) => {
      const handlers = setup(subscriber);
      const subscription = source.subscribe({
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
        complete() {
          try {
            if (handlers.complete) handlers.complete();
            else subscriber.complete();
          } catch (thrown) {
            subscriber.error(thrown);
          }
        },
      });
      return () => {
        subscription.unsubscribe();
        handlers.finalize?.();
      };
    });
}
