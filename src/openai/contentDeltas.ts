import type { OperatorFunction } from 'rxjs';
import type { ChatCompletionChunk } from './chatTypes.js';
import { defineOperator } from '../defineOperator.js';

export interface ChoiceConfig {
  /** Which choice to follow when the request asked for `n > 1`; default 0. */
  choice?: number;
}

/**
 * Chunks → the text each adds to one choice's content; empty deltas are skipped.
 *
 * @example
 * client.chat.completions.stream(params).pipe(contentDeltas()).subscribe((text) => process.stdout.write(text));
 */
export function contentDeltas(config: ChoiceConfig = {}): OperatorFunction<ChatCompletionChunk, string> {
  return deltaText(config.choice ?? 0, (delta) => delta.content);
}

/** Shared by the text-delta operators: one choice's field of each delta, non-empty only. */
export function deltaText(
  choiceIndex: number,
  pick: (delta: NonNullable<ChatCompletionChunk['choices'][number]['delta']>) => string | null | undefined,
): OperatorFunction<ChatCompletionChunk, string> {
  return defineOperator((subscriber) => ({
    next(chunk) {
      for (const choice of chunk.choices) {
        if ((choice.index ?? 0) !== choiceIndex || !choice.delta) continue;
        const text = pick(choice.delta);
        if (text) subscriber.next(text);
      }
    },
  }));
}
