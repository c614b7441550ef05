import { parseForeignJson } from '../json.js';
import { mayCarryUsage } from '../openai/usage.js';
import { errorInFrame } from '../openai/streamErrors.js';
import { FINISHING_TYPES } from '../sse/finishingFrame.js';
import type { SseEventFrame, SseFrame } from '../sse/types.js';
import { errorTypeOf } from './errorType.js';
import { answerOf, choiceFinishReasons, responseInfoOf } from './responseInfo.js';
import type { ResponseInfo, TelemetryEndpoint } from './types.js';

/** What a {@link createFrameReader} reports. */
export interface FrameSink {
  /** An output chunk arrived. */
  chunk(): void;
  response(info: ResponseInfo): void;
  /** An error event arrived; only its `error.type`, as the event's text has not been redacted. */
  inStreamError(errorType: string): void;
}

/** Choices whose finish reason is kept: far more than any real `n`, few enough that a hostile index costs nothing. */
const MAX_CHOICES = 128;

const FINISH_HINT = /"finish_reason"\s*:\s*"/;
const RESPONSE_END_HINT = /"type"\s*:\s*"response\.(?:completed|incomplete|failed)"/;
const DELTA_HINT = /"type"\s*:\s*"[^"]*\.delta"/;

/**
 * Reads a stream's raw frames for telemetry without parsing every one: a
 * cheap text test picks the frames that can carry the model and id (the
 * first), finish reasons, usage or an error, and only those are parsed.
 * Output chunks are every data event of chat and legacy completions and the
 * `*.delta` events of Responses (its lifecycle events carry no output).
 *
 * @example
 * const read = createFrameReader('chat/completions', { chunk, response, inStreamError });
 * frames$.subscribe(read);
 */
export function createFrameReader(endpoint: TelemetryEndpoint, sink: FrameSink): (frame: SseFrame) => void {
  const responses = endpoint === 'responses';
  const finishReasons: string[] = [];
  let first = true;

  const readAnswer = (data: string) => {
    const answer = answerOf(parseForeignJson(data), endpoint);
    if (!answer) return;
    const info = responseInfoOf(answer, endpoint);
    if (!responses) {
      for (const [index, reason] of choiceFinishReasons(answer)) if (index < MAX_CHOICES) finishReasons[index] = reason;
      // A sparse array: filter skips the choices that have not finished.
      if (finishReasons.length > 0) info.finishReasons = finishReasons.filter(() => true);
    }
    sink.response(info);
  };

  return (frame) => {
    if (frame.type !== 'event' || frame.data === '[DONE]') return;
    const error = errorInFrame(frame);
    if (error) {
      sink.inStreamError(errorTypeOf(error));
      return;
    }
    const { data } = frame;
    const informative = first || mayCarryUsage(data) || (responses ? endsResponse(frame) : carriesFinishReason(data));
    first = false;
    // Read before the chunk is counted: the first chunk's metrics then carry the response model.
    if (informative) readAnswer(data);
    if (!responses || isDelta(frame)) sink.chunk();
  };
}

function carriesFinishReason(data: string): boolean {
  return data.includes('finish_reason"') && FINISH_HINT.test(data);
}

function endsResponse(frame: SseEventFrame): boolean {
  return frame.event !== undefined ? FINISHING_TYPES.has(frame.event) : RESPONSE_END_HINT.test(frame.data);
}

function isDelta(frame: SseEventFrame): boolean {
  return frame.event !== undefined ? frame.event.endsWith('.delta') : DELTA_HINT.test(frame.data);
}
