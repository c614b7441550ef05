import type { SchedulerLike } from 'rxjs';
import type { Transport } from '../transport/types.js';

/** One frame of a Server-Sent Events stream, as the server sent it. */
export type SseFrame = SseEventFrame | SseCommentFrame;

export interface SseEventFrame {
  type: 'event';
  /** The `event:` field; absent for plain `data:` events such as OpenAI's chat chunks. */
  event?: string;
  data: string;
  id?: string;
}

export interface SseCommentFrame {
  type: 'comment';
  /** The comment without its leading `:` and one optional space. */
  text: string;
}

/** Each limit is in milliseconds; an absent one does not apply. */
export interface StreamTimeouts {
  /** From sending the request to the response headers. */
  headersMs?: number;
  /** From the response headers to the first data event. */
  firstEventMs?: number;
  /**
   * Between two data events. Comments (keep-alives) do not reset it. It also
   * bounds reading an error response's body (else `firstEventMs` does): the
   * error then carries the part that arrived.
   */
  idleMs?: number;
  /** The whole request, from subscribe to the end of the stream. */
  totalMs?: number;
}

/** What the response head of a stream says, handed to a request's `head` option before its first frame. */
export interface ResponseHead {
  status: number;
  /** Lower-case names, as the transport gave them. */
  headers: Record<string, string>;
  /** The provider's request id (`x-request-id`, or Azure's equivalents): quote it in a support request. */
  requestId: string | undefined;
  /** The `x-stream-id` of a relay in resume mode: what `client.resumeStream(id)` re-attaches to. */
  streamId: string | undefined;
}

/** Everything {@link sseFrames} needs for one request. */
export interface SseRequest {
  transport: Transport;
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Aborting it ends the stream with `StreamAbortError`. */
  signal?: AbortSignal;
  timeout?: StreamTimeouts;
  /** Largest event (or unterminated line) in characters; default {@link DEFAULT_MAX_EVENT_SIZE}. */
  maxEventSize?: number;
  /** Called once with the head of a successful event-stream response, before its first frame. */
  head?: (head: ResponseHead) => void;
  /** Runs the timeouts; default `asyncScheduler` (which `TestScheduler.run` puts in virtual time). */
  scheduler?: SchedulerLike;
}

/** 8 MiB: far above any real chunk (a Responses `response.completed` event repeats the whole answer). */
export const DEFAULT_MAX_EVENT_SIZE = 8 * 1024 * 1024;
