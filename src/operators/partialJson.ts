import type { OperatorFunction } from 'rxjs';
import { defineOperator } from '../defineOperator.js';
import { partialJsonParser, type JsonValue, type PartialJsonConfig } from './partialJsonParser.js';

export type { JsonValue, PartialJsonConfig };

/**
 * String deltas → the JSON value so far, after each delta that changed it:
 * objects hold the keys whose value has begun, strings grow as characters
 * arrive, numbers, `true`, `false` and `null` appear once complete. Each
 * character is parsed once, so the whole answer costs time linear in its
 * length. An emitted value is never changed afterwards (the next one shares
 * what did not change with it), so views comparing by reference re-render
 * exactly what changed.
 *
 * Invalid JSON fails with a {@link PartialJsonError} at the character where it
 * became invalid; JSON left unfinished fails when the source completes; so do
 * nesting deeper than `maxDepth` and text longer than `maxLength`.
 *
 * @example
 * client.chat.completions.stream({ ...params, response_format: { type: 'json_object' } })
 *   .pipe(contentDeltas(), partialJson())
 *   .subscribe((draft) => render(draft));
 */
export function partialJson(config: PartialJsonConfig = {}): OperatorFunction<string, JsonValue> {
  return defineOperator((subscriber) => {
    const parser = partialJsonParser(config);
    return {
      next(delta) {
        if (parser.push(delta)) subscriber.next(parser.value as JsonValue);
      },
      complete() {
        if (parser.end()) subscriber.next(parser.value as JsonValue);
        subscriber.complete();
      },
    };
  });
}
