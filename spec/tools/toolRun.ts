import type { Observable, Subscription } from 'rxjs';
import { watchChanges } from '../helpers/changes';

/** A subscription to a tool loop that keeps every event, and lets a test wait for the event that proves a point. */
export interface RecordedRun<Event> {
  readonly events: Event[];
  readonly error: unknown;
  readonly completed: boolean;
  readonly subscription: Subscription;
  /** Resolves once `condition` holds, checked again after every event and at the end. */
  until(condition: (events: Event[]) => boolean, what: string): Promise<void>;
  /** Resolves once the run completed or failed. */
  ended(): Promise<void>;
}

export function recordRun<Event>(run$: Observable<Event>): RecordedRun<Event> {
  const changes = watchChanges();
  const events: Event[] = [];
  let error: unknown;
  let completed = false;
  let failed = false;
  const subscription = run$.subscribe({
    next: (event) => {
      events.push(event);
      changes.changed();
    },
    error: (failure: unknown) => {
      error = failure;
      failed = true;
      changes.changed();
    },
    complete: () => {
      completed = true;
      changes.changed();
    },
  });
  return {
    events,
    get error() {
      return error;
    },
    get completed() {
      return completed;
    },
    subscription,
    until: (condition, what) => changes.until(() => condition(events), what),
    ended: () => changes.until(() => completed || failed, 'the run to end'),
  };
}

/** The event types in order, `chunk`s left out: the loop's outline. */
export function outline(events: ReadonlyArray<{ type: string; step: number }>): string[] {
  return events.filter((event) => event.type !== 'chunk').map((event) => `${event.step}:${event.type}`);
}
