import type { OperatorFunction } from 'rxjs';
import { defineOperator } from '../defineOperator.js';
import type { ResponseStreamEvent } from './responseTypes.js';

/**
 * Responses events → the text of each `response.output_text.delta`, in
 * arrival order across all output items; empty deltas are skipped.
 *
 * @example
 * client.responses.stream({ model, input }).pipe(outputTextDeltas()).subscribe((text) => process.stdout.write(text));
 */
export function outputTextDeltas(): OperatorFunction<ResponseStreamEvent, string> {
  return defineOperator((subscriber) => ({
    next(event) {
      if (event.type === 'response.output_text.delta' && event.delta) {
        subscriber.next(event.delta);
      }
    },
  }));
}
