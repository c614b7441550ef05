import type { OperatorFunction } from 'rxjs';
import type { ChatCompletionChunk } from './chatTypes.js';
import type { ChoiceConfig } from './contentDeltas.js';
import { defineOperator } from '../defineOperator.js';

/**
 * Chunks → one choice's content deltas (strings) and refusal deltas
 * (`{ refusal }`), in arrival order; empty ones are skipped. This is what
 * `structuredOutput` takes to end a refused answer with a `RefusalError`
 * instead of a confusing JSON error.
 *
 * @example
 * client.chat.completions.stream(params).pipe(contentOrRefusal(), structuredOutput(Person));
 */
export function contentOrRefusal(config: ChoiceConfig = {}): OperatorFunction<ChatCompletionChunk, string | { refusal: string }> {
  const choiceIndex = config.choice ?? 0;
  return defineOperator((subscriber) => ({
    next(chunk) {
      for (const choice of chunk.choices) {
        if ((choice.index ?? 0) !== choiceIndex || !choice.delta) continue;
        const { content, refusal } = choice.delta;
        if (content) subscriber.next(content);
        if (refusal) subscriber.next({ refusal });
      }
    },
  }));
}
