import type { Observable } from 'rxjs';
import { eventSource } from '../sse/sseFrames.js';
import { sseBlockSplitter, type SseBlock } from '../sse/sseBlocks.js';
import type { SseRequest } from '../sse/types.js';

/** The blocks one upstream read completed (the whole rest, at the end of the body). */
export interface UpstreamRead {
  blocks: SseBlock[];
  /** The body ended in the middle of a line: its last block is what arrived of it. */
  cutMidLine: boolean;
}

/**
 * The relay's upstream: the request, timeouts and teardown of `sseFrames`,
 * with the body cut into blocks that keep their own bytes, one emission per
 * network read. While `pause$` says `true` the body is not read.
 *
 * @example
 * upstreamBlocks(request, pause$).subscribe(({ blocks }) => log.append(blocks));
 */
export function upstreamBlocks(request: SseRequest, pause$: Observable<boolean>): Observable<UpstreamRead> {
  return eventSource<UpstreamRead>(request, { pause$ }, (output) => {
    const splitter = sseBlockSplitter(output.maxEventSize, output.oversize);
    const hand = (blocks: SseBlock[], cutMidLine: boolean) => {
      for (const block of blocks) for (const frame of block.frames) if (!output.frame(frame)) return;
      if (blocks.length > 0) output.next({ blocks, cutMidLine });
    };
    return {
      feed: (chunk) => hand(splitter.feed(chunk), false),
      end() {
        const { block, cutMidLine } = splitter.end();
        if (block) hand([block], cutMidLine);
      },
    };
  });
}
