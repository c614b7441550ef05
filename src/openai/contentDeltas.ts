import type { OperatorFunction } from 'rxjs';
import type { ChatCompletionChunk } from './chatTypes.js';
import { defineOperator } from '../defineOperator.js';
import { RefusalError } from '../errors.js';
import { appendRefusal } from './refusalText.js';

export interface ChoiceConfig {
  /** Which choice to follow when the request asked for `n > 1`; default 0. */
  choice?: number;
}

/**
 * Chunks → the text each adds to one choice's content; empty deltas are
 * skipped. A refused answer (the choice streamed `refusal` text) ends with a
 * `RefusalError` carrying that text instead of completing, so a refusal is never
 * mistaken for an empty answer (`contentOrRefusal()` passes the refusal on as it streams).
 *
 * @example
 * client.chat.completions.stream(params).pipe(contentDeltas()).subscribe({
 *   next: (text) => process.stdout.write(text),
 *   error: (error) => console.error(error instanceof RefusalError ? `Refused: ${error.refusal}` : error),
 * });
 */
export function contentDeltas(config: ChoiceConfig = {}): OperatorFunction<ChatCompletionChunk, string> {
  const choiceIndex = config.choice ?? 0;
  return defineOperator((subscriber) => {
    let refusal = '';
    return {
      next(chunk) {
        for (const choice of chunk.choices) {
          if ((choice.index ?? 0) !== choiceIndex || !choice.delta) continue;
          const { content, refusal: refused } = choice.delta;
          if (content) subscriber.next(content);
          if (refused) refusal = appendRefusal(refusal, refused);
        }
      },
      complete() {
        if (refusal) throw new RefusalError({ refusal });
        subscriber.complete();
      },
    };
  });
}
