import { filter, type OperatorFunction } from 'rxjs';
import type { ResponseEventType, ResponseStreamEvent, ResponseStreamEventOf } from './responseEventTypes.js';

/**
 * Responses events → only those of the given types, typed as them: after
 * `ofType('response.output_text.delta')` every value has a `delta`. A type
 * OpenAI does not document is a compile error (a misspelt type would let
 * nothing through); a provider's own events are picked with
 * `filter((event) => extras(event).type === '…')`.
 *
 * @example
 * client.responses.stream({ model, input }).pipe(
 *   ofType('response.output_text.delta', 'response.refusal.delta'),
 * ).subscribe((event) => write(event.delta));
 */
export function ofType<T extends ResponseEventType>(...types: [T, ...T[]]): OperatorFunction<ResponseStreamEvent, ResponseStreamEventOf<T>> {
  const wanted: readonly string[] = types;
  return filter((event): event is ResponseStreamEventOf<T> => wanted.includes(event.type));
}
