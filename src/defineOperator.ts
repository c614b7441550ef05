import { Observable, Subscription, type Observer, type OperatorFunction, type Subscriber, type TeardownLogic } from 'rxjs';

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
  return (source) => new Observable<Out>((subscriber) => subscribeHandlers(source, subscriber, setup(subscriber)));
}

/**
 * Outside the Observable's closure, so that the teardown, which lives as long as the stream, does not keep `source`:
 * through it the whole chain above, down to the request's body.
 */
function subscribeHandlers<In, Out>(source: Observable<In>, subscriber: Subscriber<Out>, handlers: OperatorHandlers<In>): TeardownLogic {
  const subscription = source.subscribe(new HandlerObserver(handlers, subscriber));
  return () => {
    subscription.unsubscribe();
    handlers.finalize?.();
  };
}

/**
 * One subscription's observer of the source. Being a `Subscription` as well, RxJS subscribes it as it is: any other
 * observer it wraps in two objects of its own, three more calls for every value of every stream. Like those, it takes
 * nothing once the source has ended or it was unsubscribed, and lets the source go when the source ends. Should a
 * version of RxJS wrap it anyway, it works the same, only slower.
 */
class HandlerObserver<In, Out> extends Subscription implements Observer<In> {
  private stopped = false;

  constructor(
    private readonly handlers: OperatorHandlers<In>,
    private readonly subscriber: Subscriber<Out>,
  ) {
    super();
  }

  next(value: In): void {
    if (this.stopped) return;
    try {
      this.handlers.next(value);
    } catch (thrown) {
      this.subscriber.error(thrown);
    }
  }

  error(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    try {
      if (this.handlers.error) this.handlers.error(error);
      else this.subscriber.error(error);
    } catch {
      this.subscriber.error(error);
    } finally {
      this.unsubscribe();
    }
  }

  complete(): void {
    if (this.stopped) return;
    this.stopped = true;
    try {
      if (this.handlers.complete) this.handlers.complete();
      else this.subscriber.complete();
    } catch (thrown) {
      this.subscriber.error(thrown);
    } finally {
      this.unsubscribe();
    }
  }

  override unsubscribe(): void {
    this.stopped = true;
    super.unsubscribe();
  }
}
