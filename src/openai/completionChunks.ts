import type { OperatorFunction } from 'rxjs';
import type { SseFrame } from '../sse/types.js';
import { completionChunkSchema, type CompletionChunk } from './completionTypes.js';
import { choiceChunks } from './jsonEvents.js';

/**
 * Raw frames → validated legacy completion chunks (`/completions`). Stops at
 * `[DONE]`; raises in-stream errors as `APIError`. A stream that ends without
 * `[DONE]` completes only if every choice that started also finished, else it
 * fails with `StreamTruncatedError`. An empty `choices: []` chunk (Azure's
 * first, the usage chunk) starts nothing.
 *
 * @example
 * client.completions.events({ model, prompt }).pipe(completionChunks(), completionTextDeltas()).subscribe(write);
 */
export function completionChunks(): OperatorFunction<SseFrame, CompletionChunk> {
  return choiceChunks('completion', completionChunkSchema, () => true);
}
