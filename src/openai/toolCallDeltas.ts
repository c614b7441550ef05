import type { OperatorFunction } from 'rxjs';
import type { ChatCompletionChunk, ChatCompletionToolCallDelta } from './chatTypes.js';
import type { ChoiceConfig } from './contentDeltas.js';
import { defineOperator } from '../defineOperator.js';

/**
 * One fragment of a streamed tool call. `id` and `name` come with a call's
 * first fragment. A custom tool's call (`type: 'custom'`) streams free-text
 * `custom.input` instead of JSON `function.arguments`: its fragments carry
 * `custom.name` as `name` and pieces of `custom.input` as `arguments` (the
 * tool's name tells which kind it is).
 */
export interface ToolCallDelta {
  /** Position of the call in the message's `tool_calls`. */
  index: number;
  id?: string;
  name?: string;
  /** The next piece of the arguments (JSON) or, for a custom tool, of its input (may be empty on the first fragment). */
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
  return defineOperator((subscriber) => {
    const indexOf = toolCallIndexer();
    return {
      next(chunk) {
        for (const choice of chunk.choices) {
          if ((choice.index ?? 0) !== choiceIndex || !choice.delta?.tool_calls) continue;
          for (const call of choice.delta.tool_calls) {
            const delta: ToolCallDelta = { index: indexOf(call), arguments: call.custom?.input ?? call.function?.arguments ?? '' };
            if (call.id) delta.id = call.id;
            const name = call.custom?.name || call.function?.name;
            if (name) delta.name = name;
            subscriber.next(delta);
          }
        }
      },
    };
  });
}

/**
 * Gives each fragment of one choice its call's index: the provider's `index`,
 * or for providers that omit it, the index of the call with the same `id`, a
 * new call for a new `id`, and the latest call for fragments without one (an
 * empty `id` counts as none).
 */
export function toolCallIndexer(): (call: ChatCompletionToolCallDelta) => number {
  const indexById = new Map<string, number>();
  let calls = 0;
  return (call) => {
    const id = call.id || undefined;
    const known = id === undefined ? undefined : indexById.get(id);
    const index = call.index ?? known ?? (id !== undefined ? calls : Math.max(calls - 1, 0));
    if (id !== undefined && known === undefined) indexById.set(id, index);
    calls = Math.max(calls, index + 1);
    return index;
  };
}
