import type { OperatorFunction } from 'rxjs';
import { defineOperator } from '../defineOperator.js';
import type { ResponseStreamEvent } from './responseTypes.js';

/**
 * Responses events → output text deltas (strings) and refusal deltas
 * (`{ refusal }`), in arrival order; empty ones are skipped. This is what
 * `structuredOutput` takes to end a refused answer with a `RefusalError`.
 *
 * @example
 * client.responses.stream({ model, input, text: { format: zodTextFormat(Person, 'person') } })
 *   .pipe(outputTextOrRefusal(), structuredOutput(Person));
 */
export function outputTextOrRefusal(): OperatorFunction<ResponseStreamEvent, string | { refusal: string }> {
  return defineOperator((subscriber) => ({
    next(event) {
      if (event.type === 'response.output_text.delta' && event.delta) subscriber.next(event.delta);
      else if (event.type === 'response.refusal.delta' && event.delta) subscriber.next({ refusal: event.delta });
    },
  }));
}
