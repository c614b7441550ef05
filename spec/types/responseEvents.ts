import { filter, map, type Observable } from 'rxjs';
import {
  extras,
  isKnownResponseEvent,
  ofType,
  type ResponseStreamEvent,
  type ResponseStreamEventOf,
  type ResponseTextDeltaEvent,
  type UnknownResponseStreamEvent,
  type UnvalidatedResponseStreamEvent,
} from '../../src/api';
import { assertType, type Equal } from './expect';

/* `switch (event.type)` narrows each validated event to its own fields, with no guard first. */

export function narrowsBySwitch(event: ResponseStreamEvent): string | undefined {
  switch (event.type) {
    case 'response.output_text.delta':
      assertType<Equal<typeof event, ResponseTextDeltaEvent>>();
      assertType<Equal<typeof event.delta, string>>();
      // @ts-expect-error a misspelt field of a narrowed event
      return event.delat;
    case 'response.function_call_arguments.done':
      assertType<Equal<typeof event.name, string | undefined>>();
      return event.arguments;
    case 'response.completed':
      return event.response.output[0]?.content?.[0]?.text;
    case 'response.web_search_call.searching':
      // A documented type openai-rx does not validate: its `type` narrows, its fields come through extras.
      assertType<Equal<typeof event, UnvalidatedResponseStreamEvent<'response.web_search_call.searching'>>>();
      return String(extras(event).item_id);
    default:
      // What is left includes the events of types nobody documented.
      assertType<UnknownResponseStreamEvent extends typeof event ? true : false>();
      return undefined;
  }
}

export function narrowsByComparison(event: ResponseStreamEvent): void {
  if (event.type === 'response.reasoning_summary_text.delta') assertType<Equal<typeof event.summary_index, number>>();
  // @ts-expect-error a misspelt event type: no event has it
  if (event.type === 'response.output_text.delat') return;
  // @ts-expect-error an unnarrowed event: `delta` is not on every event
  void event.delta;
  // The type of every event, known or not, reads as a string.
  const type: string = event.type;
  void type;
}

/* Events of a type OpenAI does not document flow at run time; `extras(event)` reads them. */

export function readsUnknownEvents(events$: Observable<ResponseStreamEvent>): Observable<unknown> {
  return events$.pipe(
    filter((event) => extras(event).type === 'vendor.progress'),
    map((event) => extras(event).percent),
  );
}

export function knownGuardStillNarrows(event: ResponseStreamEvent): void {
  if (isKnownResponseEvent(event) && event.type === 'response.refusal.done') assertType<Equal<typeof event.refusal, string>>();
}

/* ofType picks events by type and narrows the output to them. */

export function ofTypeNarrows(events$: Observable<ResponseStreamEvent>): void {
  const deltas$ = events$.pipe(ofType('response.output_text.delta'));
  assertType<Equal<typeof deltas$, Observable<ResponseTextDeltaEvent>>>();

  const text$ = events$.pipe(
    ofType('response.output_text.delta', 'response.refusal.delta'),
    map((event) => event.delta),
  );
  assertType<Equal<typeof text$, Observable<string>>>();

  const usage$ = events$.pipe(ofType('response.completed', 'response.incomplete'), map((event) => event.response.usage));

  const searches$ = events$.pipe(ofType('response.web_search_call.completed'));
  assertType<Equal<typeof searches$, Observable<ResponseStreamEventOf<'response.web_search_call.completed'>>>>();
  void [deltas$, text$, usage$, searches$];

  // @ts-expect-error a misspelt type would let nothing through
  events$.pipe(ofType('response.output_text.delat'));
  // @ts-expect-error `response.failed` is never emitted: it ends the stream with APIError
  events$.pipe(ofType('response.failed'));
  // @ts-expect-error at least one type
  events$.pipe(ofType());
  // @ts-expect-error a field the picked events do not have
  events$.pipe(ofType('response.output_text.done'), map((event) => event.delta));
}
