import type { OperatorFunction } from 'rxjs';
import type { ChatCompletionChunk } from './chatTypes.js';
import type { ChoiceConfig } from './contentDeltas.js';
import { defineOperator } from '../defineOperator.js';

/**
 * Chunks → reasoning text, whichever spelling the provider uses
 * (`reasoning_content`: DeepSeek, llama.cpp, vLLM; `reasoning`: Groq, OpenRouter, Ollama).
 *
 * @example
 * client.chat.completions.stream(params).pipe(reasoningDeltas()).subscribe(showThinking);
 */
export function reasoningDeltas(config: ChoiceConfig = {}): OperatorFunction<ChatCompletionChunk, string> {
  const choiceIndex = config.choice ?? 0;
  return defineOperator((subscriber) => ({
    next(chunk) {
      for (const choice of chunk.choices) {
        if ((choice.index ?? 0) !== choiceIndex || !choice.delta) continue;
        const text = choice.delta.reasoning_content || choice.delta.reasoning;
        if (text) subscriber.next(text);
      }
    },
  }));
}
