import { Observable, type OperatorFunction } from 'rxjs';
import type { ChatCompletionChunk, ChatCompletionToolCallDelta } from './chatTypes.js';
import type { ChoiceConfig } from './contentDeltas.js';

/** One fragment of a streamed tool call. `id` and `name` come with a call's first fragment. */
export interface ToolCallDelta {
  /** Position of the call in the message's `tool_calls`. */
  index: number;
  id?: string;
  name?: string;
  /** The next piece of the JSON arguments text (may be empty on the first fragment). */
  arguments: string;
}

/**
 * Chunks → tool-call fragments of one choice, in arrival order. Providers that
 * omit a fragment's `index` get one from its `id` (a new id starts a new call).
 *
 * @example
 * stream$.pipe(toolCallDeltas()).subscribe(({ index, name, arguments: args }) => render(index, name, args));
 */
export function toolCallDeltas(config: ChoiceConfig = {}): OperatorFunction<ChatCompletionChunk, ToolCallDelta> {
  const choiceIndex = config.choice ?? 0;
  return (source) =>
    new Observable<ToolCallDelta>((subscriber) => {
      const indexOf = toolCallIndexer();
      return source.subscribe({
        next(chunk) {
          for (const choice of chunk.choices) {
            if ((choice.index ?? 0) !== choiceIndex || !choice.delta?.tool_calls) continue;
            for (const call of choice.delta.tool_calls) {
              const id = call.id ?? undefined;
              const index = indexOf(call);
              const delta: ToolCallDelta = { index, arguments: call.function?.arguments ?? '' };
              if (id !== undefined) delta.id = id;
              if (call.function?.name) delta.name = call.function.name;
              subscriber.next(delta);
            }
          }
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}

/**
 * Gives each fragment of one choice its call's index: the provider's `index`,
 * or for providers that omit it, a new call for each new `id` and the latest
 * call for fragments without one.
 */
export function toolCallIndexer(): (call: ChatCompletionToolCallDelta) => number {
  let calls = 0;
  let lastId: string | undefined;
  return (call) => {
    const id = call.id ?? undefined;
    const index = call.index ?? (id !== undefined && id !== lastId ? calls : Math.max(calls - 1, 0));
    calls = Math.max(calls, index + 1);
    if (id !== undefined) lastId = id;
    return index;
  };
}
