import type { Observable } from 'rxjs';
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

export interface ResponseInfo {
  status: number;
  headers: Record<string, string>;
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
  /** While it emits `true`, the body is not read (backpressure reaches the server through TCP). */
  pause$?: Observable<boolean>;
  /** Called once with the status and headers of a successful event-stream response, before its first frame. */
  onResponse?: (response: ResponseInfo) => void;
}

/** 8 MiB: far above any real chunk (a Responses `response.completed` event repeats the whole answer). */
export const DEFAULT_MAX_EVENT_SIZE = 8 * 1024 * 1024;
