import type { OperatorFunction } from 'rxjs';
import type { ChatCompletionChunk } from './chatTypes.js';
import { deltaText, type ChoiceConfig } from './contentDeltas.js';

/**
 * Chunks → reasoning text, whichever spelling the provider uses
 * (`reasoning_content`: DeepSeek, llama.cpp, vLLM; `reasoning`: Groq, OpenRouter, Ollama).
 *
 * @example
 * client.chat.completions.stream(params).pipe(reasoningDeltas()).subscribe(showThinking);
 */
export function reasoningDeltas(config: ChoiceConfig = {}): OperatorFunction<ChatCompletionChunk, string> {
  return deltaText(config.choice ?? 0, (delta) => delta.reasoning_content || delta.reasoning);
}
