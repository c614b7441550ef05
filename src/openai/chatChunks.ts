import type { OperatorFunction } from 'rxjs';
import type { SseFrame } from '../sse/types.js';
import { chatCompletionChunkSchema, type ChatCompletionChunk } from './chatTypes.js';
import { choiceChunks } from './jsonEvents.js';

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
  return choiceChunks('chat', chatCompletionChunkSchema, (choice) => Boolean(choice.delta));
}
