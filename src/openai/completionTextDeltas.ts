import type { OperatorFunction } from 'rxjs';
import type { CompletionChunk } from './completionTypes.js';
import type { ChoiceConfig } from './contentDeltas.js';
import { defineOperator } from '../defineOperator.js';

/**
 * Legacy completion chunks → the text each adds to one choice; empty texts
 * (a trailing finish chunk, Azure's filter annotations) are skipped.
 *
 * @example
 * client.completions.stream({ model, prompt }).pipe(completionTextDeltas()).subscribe((text) => process.stdout.write(text));
 */
export function completionTextDeltas(config: ChoiceConfig = {}): OperatorFunction<CompletionChunk, string> {
  const choiceIndex = config.choice ?? 0;
  return defineOperator((subscriber) => ({
    next(chunk) {
      for (const choice of chunk.choices) {
        if ((choice.index ?? 0) === choiceIndex && choice.text) subscriber.next(choice.text);
      }
    },
  }));
}
