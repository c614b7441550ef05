import type { Observable } from 'rxjs';
import { isFinishingFrame, mayFinish } from '../sse/finishingFrame.js';
import { eventSource, type DecodedOutput } from '../sse/sseFrames.js';
import { sseBlockSplitter, type SseBlock } from '../sse/sseBlocks.js';
import type { SseRequest } from '../sse/types.js';

/** The blocks one upstream read completed (the whole rest, at the end of the body). */
export interface UpstreamRead {
  blocks: SseBlock[];
  /** The blocks' bytes together, as they arrived. */
  bytes: Uint8Array;
  /** The blocks' text, decoded once: cheap substring tests tell which few are worth parsing. */
  text: string;
  /** The index of the block with a finishing event (`[DONE]`, a Responses terminal event); -1 when none. */
  finishedAt: number;
  /** The body's last block, which lacks its blank line (it may even stop in the middle of a line). */
  tail: boolean;
}

/**
 * The relay's upstream: the request, timeouts and teardown of `sseFrames`,
 * with the body cut into blocks that keep their own bytes, one emission per
 * network read. Blocks are parsed only where a finishing event may be. While
 * `pause$` says `true` the body is not read.
 *
 * @example
 * upstreamBlocks(request, pause$).subscribe(({ blocks }) => log.append(blocks));
 */
export function upstreamBlocks(request: SseRequest, pause$: Observable<boolean>): Observable<UpstreamRead> {
  return eventSource<UpstreamRead>(request, { pause$ }, (output) => {
    const splitter = sseBlockSplitter(output.maxEventSize);
    const hand = (blocks: SseBlock[], bytes: Uint8Array, text: string, tail: boolean, oversize: boolean) => {
      for (const block of blocks) if (block.hasData && !output.dataEvent()) return;
      if (blocks.length > 0) output.next({ blocks, bytes, text, finishedAt: finishingBlock(blocks, text, output), tail });
      // After the whole blocks before it: the client's stream ends on an event boundary.
      if (oversize) output.oversize();
    };
    return {
      feed(chunk) {
        const { blocks, bytes, text, oversize } = splitter.feed(chunk);
        hand(blocks, bytes, text, false, oversize);
      },
      end() {
        const { block, oversize } = splitter.end();
        if (block) hand([block], block.bytes, new TextDecoder().decode(block.bytes), true, false);
        else if (oversize) output.oversize();
      },
    };
  });
}

/** The block with a finishing event, or -1; only a read whose text may hold one is parsed. */
function finishingBlock(blocks: SseBlock[], text: string, output: DecodedOutput<UpstreamRead>): number {
  if (!mayFinish(text)) return -1;
  return blocks.findIndex((block) => {
    const finishing = block.frames.find(isFinishingFrame);
    // The source learns it too: a finished response keeps its connection when the relay lets go.
    if (finishing) output.frame(finishing);
    return finishing !== undefined;
  });
}
