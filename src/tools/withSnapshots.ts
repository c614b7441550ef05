import { connect, map, zip, type OperatorFunction } from 'rxjs';
import type { StreamedChunk } from './toolLoop.js';

/**
 * Chunks → each chunk with the snapshot an accumulating operator made of it
 * (`accumulateChatCompletion`, `accumulateResponse`: one snapshot per chunk).
 * A `StreamTruncatedError` comes out as the accumulator re-raised it, with
 * the last snapshot as `partial`.
 *
 * @example
 * client.chat.completions.stream(params).pipe(withSnapshots(accumulateChatCompletion)).subscribe(({ chunk, snapshot }) => …);
 */
export function withSnapshots<Chunk, Snapshot>(
  accumulate: () => OperatorFunction<Chunk, Snapshot>,
): OperatorFunction<Chunk, StreamedChunk<Chunk, Snapshot>> {
  // The accumulator subscribes first: its snapshot waits in zip for the chunk, and its error (with the partial) wins.
  return connect((chunks$) => zip(chunks$.pipe(accumulate()), chunks$).pipe(map(([snapshot, chunk]) => ({ chunk, snapshot }))));
}
