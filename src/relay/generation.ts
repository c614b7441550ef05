import type { Observable, Subscription } from 'rxjs';
import { StreamProtocolError, StreamTruncatedError } from '../errors.js';
import type { SseBlock } from '../sse/sseBlocks.js';
import type { ResponseHead, SseFrame } from '../sse/types.js';
import type { FrameLog, LogEntry, LogEnding } from './frameLog.js';
import { ERROR_WORDS, errorInFrame } from '../openai/streamErrors.js';
import { USAGE_WORD } from '../openai/usage.js';
import { errorFrame, relayErrorResponse } from './relayErrors.js';
import type { RelayRuntime } from './relayRuntime.js';
import type { UpstreamRead } from './upstreamBlocks.js';

/** What a generation tells the exchange, beside what it writes to its log. */
export interface GenerationEvents {
  /** The upstream answered with an event stream: the client's response can start. */
  head(head: ResponseHead): void;
  /** The upstream failed before its stream started: the client gets a JSON error instead. */
  failedBeforeHead(error: unknown): void;
  /** The relay itself failed after the stream started (not upstream): for `onError`, beside the error frame. */
  failedUnexpectedly(error: unknown): void;
  /** A frame read as it goes into the log (the audit, `onFrame`, telemetry). */
  frame(frame: SseFrame): void;
  /** Frames that went into the log unread: nothing in their read could matter to the audit. */
  counted(frames: number): void;
  /** Every frame must be read (an `onFrame` hook, telemetry). */
  inspectsEveryFrame: boolean;
  /** Each block is its own log entry (resume mode numbers the events); else a read that needs no reading is one entry. */
  perBlock: boolean;
}

export interface Generation {
  /** Stops reading upstream and aborts the request (the client left, or stalled). */
  stop(): void;
}

/**
 * One upstream stream, owned apart from any client connection: it reads
 * upstream's blocks into `log`, keeps their bytes as they came (an error
 * frame that echoes a credential is redacted), and finishes the log with
 * how the stream ended: completed once a finishing event arrived (even if
 * upstream keeps the connection open), or upstream's error as one error
 * frame on an event boundary. A body that ends in the middle of a line is
 * passed on as it came (a client sees what it would see directly) and is
 * `truncated` unless what arrived still makes a whole event.
 */
export function startGeneration<Req>(
  relay: RelayRuntime<Req>,
  request: { path: string; body: unknown },
  log: FrameLog,
  pause$: Observable<boolean>,
  events: GenerationEvents,
): Generation {
  let started = false;
  let inStreamError: Error | undefined;
  let upstream: Subscription | undefined;
  let finished = false;

  const finish = (ending: LogEnding) => {
    if (finished) return;
    finished = true;
    log.finish(ending);
    // A finished response: the source keeps its connection for reuse if the body ends soon.
    upstream?.unsubscribe();
  };
  // The finishing event's block ended with a CR at the end of a read: the LF of its CRLF may be in the next one.
  let awaitingLF: Subscription | undefined;
  const fail = (error: unknown) => {
    // The response had finished; only the LF of its last CRLF was still awaited.
    if (awaitingLF) {
      complete();
      return;
    }
    if (!started) {
      finished = true;
      events.failedBeforeHead(error);
      return;
    }
    const answer = relayErrorResponse(error, { upstreamStarted: true, streamStarted: true });
    if (answer.unexpected) events.failedUnexpectedly(error);
    finish({ outcome: answer.outcome, error, frame: errorFrame(relay.redact(JSON.stringify(answer.body))) });
  };
  /** A block's log entry; its frames are read (audit, hooks, redaction of an echoing error) only when `inspect`. */
  const entryOf = (block: SseBlock): LogEntry => {
    let event = 0;
    let bytes = block.bytes;
    for (const frame of block.frames) {
      if (frame.type !== 'event') {
        events.frame(frame);
        continue;
      }
      event = 1;
      const error = errorInFrame(frame);
      if (!error) {
        events.frame(frame);
        continue;
      }
      // An error may echo a credential: the hooks, like the client, see it redacted.
      inStreamError ??= relay.redactError(error);
      bytes = relay.redactBytes(bytes);
      events.frame({ ...frame, data: relay.redact(frame.data) });
    }
    return { bytes, events: event };
  };
  /**
   * A read's log entries. One that cannot matter to the audit goes into the log as it came, counted but unparsed.
   * One that is read stays one entry too unless resume mode numbers its events or a block was redacted: the writer
   * would otherwise copy the blocks back together.
   */
  const entriesOf = (read: UpstreamRead): LogEntry[] => {
    if (events.inspectsEveryFrame || mayMatterToAudit(read.text)) {
      const entries = read.blocks.map(entryOf);
      if (events.perBlock || entries.some((entry, index) => entry.bytes !== read.blocks[index].bytes)) return entries;
      return [{ bytes: read.bytes, events: entries.reduce((count, entry) => count + entry.events, 0) }];
    }
    if (events.perBlock) {
      events.counted(read.blocks.reduce((count, block) => count + block.comments + (block.hasData ? 1 : 0), 0));
      return read.blocks.map((block) => ({ bytes: block.bytes, events: block.hasData ? 1 : 0 }));
    }
    let dataEvents = 0;
    let comments = 0;
    for (const block of read.blocks) {
      if (block.hasData) dataEvents++;
      comments += block.comments;
    }
    events.counted(dataEvents + comments);
    return [{ bytes: read.bytes, events: dataEvents }];
  };
  const complete = () => {
    awaitingLF?.unsubscribe();
    finish(inStreamError ? { outcome: 'upstream-error', error: inStreamError } : { outcome: 'completed' });
  };
  const read = (upstreamRead: UpstreamRead) => {
    const { blocks, finishedAt, tail } = upstreamRead;
    if (awaitingLF) {
      if (upstreamRead.bytes[0] === LF) log.append([{ bytes: upstreamRead.bytes.subarray(0, 1), events: 0 }]);
      complete();
      return;
    }
    if (finishedAt >= 0) {
      // Nothing after the finishing event is relayed, wherever the network split the body.
      const finishing = blocks.slice(0, finishedAt + 1);
      log.append(finishing.map(entryOf));
      const { bytes } = finishing[finishing.length - 1];
      if (bytes[bytes.length - 1] !== CR || finishedAt < blocks.length - 1) complete();
      else awaitingLF = relay.scheduler.schedule(complete, TRAILING_LF_WAIT_MS);
      return;
    }
    log.append(entriesOf(upstreamRead));
    if (tail && !wholeEvents(blocks[blocks.length - 1].frames)) {
      finish({ outcome: 'truncated', error: new StreamTruncatedError({ message: 'The upstream stream ended in the middle of an event', partial: undefined }) });
    }
  };

  upstream = relay
    .streamUpstream(
      request.path,
      request.body,
      (head) => {
        if (head.status === 204 || head.status === 205) {
          // A status that carries no body cannot be the event stream asked for.
          upstream?.unsubscribe();
          fail(new StreamProtocolError({ message: `The upstream API answered a stream request with ${head.status}, which has no body`, problem: 'content-type' }));
          return;
        }
        started = true;
        events.head(head);
      },
      pause$,
    )
    .subscribe({ next: read, error: fail, complete });
  if (finished) upstream.unsubscribe();
  return {
    stop() {
      finished = true;
      awaitingLF?.unsubscribe();
      upstream?.unsubscribe();
    },
  };
}

const LF = 10;
const CR = 13;
/** How long the end of a response waits for the LF of a finishing event's CRLF split from it by the network. */
const TRAILING_LF_WAIT_MS = 100;

/**
 * A read whose text has none of the words the frame tests look for (`mayCarryUsage`, `errorInFrame`) cannot carry
 * usage or an error: its blocks go on unparsed. One regex scan, about four times faster than an `includes` per word
 * (the relay tests every read).
 */
const AUDIT_TEXT = new RegExp([USAGE_WORD, ...ERROR_WORDS].join('|'));

function mayMatterToAudit(text: string): boolean {
  return AUDIT_TEXT.test(text);
}

/** A body cut mid-line still ends well if every event its last block makes is whole: `[DONE]`, or data that is JSON. */
function wholeEvents(frames: SseFrame[]): boolean {
  return frames.every((frame) => {
    if (frame.type !== 'event' || frame.data === '[DONE]') return true;
    try {
      JSON.parse(frame.data);
      return true;
    } catch {
      return false;
    }
  });
}
