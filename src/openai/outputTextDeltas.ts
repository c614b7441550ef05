import type { OperatorFunction } from 'rxjs';
import { defineOperator } from '../defineOperator.js';
import { RefusalError } from '../errors.js';
import type { ResponseStreamEvent } from './responseTypes.js';
import { appendRefusal } from './refusalText.js';

/**
 * Responses events → the text of each `response.output_text.delta`, in
 * arrival order across all output items; empty deltas are skipped. A refused
 * answer (`response.refusal.delta` events) ends with a `RefusalError` carrying
 * the refusal text instead of completing (`outputTextOrRefusal()` passes the
 * refusal on as it streams).
 *
 * @example
 * client.responses.stream({ model, input }).pipe(outputTextDeltas()).subscribe((text) => process.stdout.write(text));
 */
export function outputTextDeltas(): OperatorFunction<ResponseStreamEvent, string> {
  return defineOperator((subscriber) => {
    let refusal = '';
    return {
      next(event) {
        if (event.type === 'response.output_text.delta' && event.delta) subscriber.next(event.delta);
        else if (event.type === 'response.refusal.delta' && event.delta) refusal = appendRefusal(refusal, event.delta);
      },
      complete() {
        if (refusal) throw new RefusalError({ refusal });
        subscriber.complete();
      },
    };
  });
}
