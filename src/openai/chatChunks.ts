import type { OperatorFunction } from 'rxjs';
import { StreamTruncatedError } from '../errors.js';
import type { SseFrame } from '../sse/types.js';
import { chatCompletionChunkSchema, type ChatCompletionChunk } from './chatTypes.js';
import { jsonEvents, validate } from './jsonEvents.js';

/** What a chat stream cut short had delivered: `StreamTruncatedError#partial` from {@link chatChunks}. */
export interface ChatStreamProgress {
  chunks: number;
  /** Indexes of the choices that started but never got a `finish_reason`. */
  unfinishedChoices: number[];
}

/**
 * Raw frames → validated chat completion chunks. Stops at `[DONE]`; raises
 * in-stream errors as `APIError`. A stream that ends without `[DONE]` completes
 * only if every choice that started also finished, else it fails with
 * `StreamTruncatedError`.
 *
 * @example
 * client.chat.completions.events(params).pipe(chatChunks(), contentDeltas()).subscribe(write);
 */
export function chatChunks(): OperatorFunction<SseFrame, ChatCompletionChunk> {
  return jsonEvents<ChatCompletionChunk>(() => {
    const started = new Set<number>();
    const finished = new Set<number>();
    let chunks = 0;
    return {
      accept(json, frame, out) {
        const chunk = validate(chatCompletionChunkSchema, json, frame, out);
        if (chunk === undefined) return;
        chunks++;
        for (const choice of chunk.choices) {
          const index = choice.index ?? 0;
          if (choice.delta) started.add(index);
          if (choice.finish_reason) finished.add(index);
        }
        out.next(chunk);
      },
      end(out) {
        const unfinishedChoices = [...started].filter((index) => !finished.has(index));
        if (finished.size > 0 && unfinishedChoices.length === 0) {
          out.complete();
          return;
        }
        const what = chunks === 0 ? 'before any chunk' : `after ${chunks} chunks with choices ${unfinishedChoices.join(', ')} unfinished`;
        out.error(
          new StreamTruncatedError<ChatStreamProgress>(`The chat stream ended without [DONE] ${what}`, {
            chunks,
            unfinishedChoices,
          }),
        );
      },
    };
  });
}
