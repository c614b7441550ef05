import { asyncScheduler, defer, finalize, Observable, type SchedulerLike, type Subscription } from 'rxjs';
import { APIConnectionError, APIError, StreamAbortError, StreamTimeoutError } from '../errors.js';
import { isRetryableError } from '../operators/retryStream.js';
import { onAbort } from '../sse/onAbort.js';
import { sseFrames } from '../sse/sseFrames.js';
import type { ResponseHead, SseEventFrame, SseFrame, SseRequest } from '../sse/types.js';
import { StreamNotFoundError } from './clientErrors.js';

/** How a resumable stream re-attaches after its connection broke. `resume: true` takes every default. */
export interface ResumeConfig {
  /** Re-attaches in a row that may fail before the error passes through; a new event resets the count. Default 5. */
  attempts?: number;
  /** The backoff ceiling before the first re-attach, doubling for each one after it (full jitter); default 250 ms. */
  initialDelayMs?: number;
  /** The largest backoff ceiling; default 8000 ms. */
  maxDelayMs?: number;
  /**
   * Whether leaving a generation that still runs (unsubscribing, the request's signal, a timeout, an error of the pipeline) sends
   * `POST …/streams/{id}/cancel`; default `true`. `false` leaves the generation
   * running on the relay, to be picked up later with `client.resumeStream(id)` (the relay aborts it if nobody
   * re-attaches within its `abandonAfterMs`).
   */
  cancelOnUnsubscribe?: boolean;
  /** Schedules the backoff; default the client's scheduler, else `asyncScheduler`. */
  scheduler?: SchedulerLike;
}

/** A request's `resume` option. */
export type ResumeOption = boolean | ResumeConfig;

/** Where a resumable stream begins: a request that starts a generation, or a known stream after event `after`. */
export type ResumeOrigin = { start: () => SseRequest } | { streamId: string; after: number };

/** The requests of one resumable stream, made by the client. */
export interface ResumePlan {
  origin: ResumeOrigin;
  /** The `GET …/streams/{id}` with `Last-Event-ID: after`. */
  reattach: (streamId: string, after: number) => SseRequest;
  /** Sends the cancel; never throws. */
  cancel: (streamId: string) => void;
  /** Whether the generation is over once `frame` arrived (its last event, or an error event): leaving then cancels nothing. */
  isLast: (frame: SseFrame) => boolean;
  /** The caller's `head` option: called once, with the first response head. */
  head?: (head: ResponseHead) => void;
}

const DEFAULT_ATTEMPTS = 5;
const DEFAULT_INITIAL_DELAY_MS = 250;
const DEFAULT_MAX_DELAY_MS = 8000;
/** A relay's `retry-after` longer than this is cut to it. */
const MAX_RETRY_AFTER_MS = 60_000;
/** The contract's ids are URL-safe; anything else in `x-stream-id` is not used to build a URL. */
const STREAM_ID = /^[\w~.-]{1,256}$/;
/** An event number: digits, no sign, not past what a double holds exactly. */
const EVENT_NUMBER = /^\d{1,15}$/;

/**
 * The Observable `build` makes from one unbroken stream of frames. When a
 * connection of a relay in resume mode breaks mid-stream (the connection
 * closed after the head, or the idle timeout fired), the frames go on from a
 * `GET …/streams/{id}` with `Last-Event-ID`: each frame reaches `build` once,
 * comments too (the frames after an event are the same on every read, so the
 * comments already delivered since the last id are skipped). Other errors pass
 * through; a relay that no longer knows the stream is a `StreamNotFoundError`.
 *
 * Leaving a generation that still runs stops it: unsubscribing, the
 * request's signal, a timeout or an error of `build`'s pipeline abort the
 * connection and send the cancel (once the stream id is known). A generation
 * that is over (the stream completed, or its last event or an error event
 * arrived) sends none, however the subscriber leaves. A `totalMs` timeout
 * bounds the whole stream, re-attaches included.
 *
 * @example
 * resumable(plan, { attempts: 3 }, (frames) => frames.pipe(chatChunks())).subscribe(render);
 */
export function resumable<T>(plan: ResumePlan, config: ResumeConfig, build: (frames: Observable<SseFrame>) => Observable<T>): Observable<T> {
  return defer(() => {
    const session = resumeSession(plan, config);
    return build(session.frames).pipe(finalize(session.leave));
  });
}

interface ResumeSession {
  frames: Observable<SseFrame>;
  /** The subscriber is gone, however it left: cancel the generation unless it is over. */
  leave: () => void;
}

function resumeSession(plan: ResumePlan, config: ResumeConfig): ResumeSession {
  const { origin } = plan;
  let streamId = 'streamId' in origin ? origin.streamId : undefined;
  let over = false;
  const leave = () => {
    if (over || streamId === undefined) return;
    over = true;
    if (config.cancelOnUnsubscribe !== false) plan.cancel(streamId);
  };
  const frames = new Observable<SseFrame>((subscriber) => {
    const first = 'start' in origin ? origin.start() : plan.reattach(origin.streamId, origin.after);
    const scheduler = config.scheduler ?? first.scheduler ?? asyncScheduler;
    const { totalMs, ...timeout } = first.timeout ?? {};
    const position = framePosition('after' in origin ? origin.after : 0);
    let failures = 0;
    let headDelivered = false;
    let connection: Subscription | undefined;
    let pause: Subscription | undefined;

    const fail = (error: unknown) => {
      if (subscriber.closed) return;
      if (error instanceof StreamNotFoundError) over = true;
      subscriber.error(error);
    };
    const onHead = (head: ResponseHead) => {
      if (streamId === undefined && head.streamId !== undefined && STREAM_ID.test(head.streamId)) streamId = head.streamId;
      if (headDelivered) return;
      headDelivered = true;
      plan.head?.(head);
    };
    const connect = (request: SseRequest, reattaching: boolean) => {
      let headArrived = false;
      connection?.unsubscribe();
      connection = sseFrames({
        ...request,
        timeout,
        head(head) {
          headArrived = true;
          onHead(head);
        },
      }).subscribe({
        next(frame) {
          const admitted = position.admit(frame);
          if (admitted === 'delivered') return;
          // A new event: the stream moves on, so the re-attaches that failed before it do not count any more.
          if (admitted === 'event') failures = 0;
          if (plan.isLast(frame)) over = true;
          subscriber.next(frame);
        },
        error: (error: unknown) =>
          reattaching ? broke(isNotFound(error) ? StreamNotFoundError.from(error) : error, isReattachable(error)) : broke(error, isBreak(error, headArrived)),
        complete() {
          over = true;
          subscriber.complete();
        },
      });
    };
    const broke = (error: unknown, resumable: boolean) => {
      const id = streamId;
      if (id === undefined || !resumable || failures >= (config.attempts ?? DEFAULT_ATTEMPTS)) return fail(error);
      failures++;
      position.rewind();
      pause = scheduler.schedule(() => connect(plan.reattach(id, position.last()), true), delayFor(error, failures, config));
    };

    const { signal } = first;
    const stopWatching = signal && onAbort(signal, () => fail(new StreamAbortError({ reason: signal.reason })));
    const total = totalMs === undefined ? undefined : scheduler.schedule(() => fail(new StreamTimeoutError({ phase: 'total', timeoutMs: totalMs })), totalMs);
    if (signal?.aborted) fail(new StreamAbortError({ reason: signal.reason }));
    else connect(first, !('start' in origin));
    return () => {
      stopWatching?.();
      total?.unsubscribe();
      pause?.unsubscribe();
      connection?.unsubscribe();
    };
  });
  return { frames, leave };
}

/**
 * Where the subscriber is in the stream: the last event number delivered, and
 * how many comments came after it. A re-attach replays from that event, so as
 * many comments are skipped. Events without a number (the relay's final error
 * frame) are never skipped: a frame seen twice is better than an ending lost.
 * A relay heartbeat is not replayed: after one, a stored comment may be
 * skipped instead, which costs no content.
 */
function framePosition(after: number) {
  let last = after;
  let commentsSinceLast = 0;
  let toSkip = 0;
  return {
    last: () => last,
    /** A new connection replays from `last`. */
    rewind() {
      toSkip = commentsSinceLast;
    },
    /** Counts the frame in: `delivered` before (skip it), a new numbered `event`, or another `frame`. */
    admit(frame: SseFrame): 'delivered' | 'event' | 'frame' {
      if (frame.type === 'comment') {
        if (toSkip > 0) {
          toSkip--;
          return 'delivered';
        }
        commentsSinceLast++;
        return 'frame';
      }
      const number = eventNumber(frame);
      if (number === undefined) return 'frame';
      // A relay that replays more than was asked for: those events were delivered.
      if (number <= last) return 'delivered';
      last = number;
      commentsSinceLast = 0;
      toSkip = 0;
      return 'event';
    },
  };
}

function eventNumber(frame: SseEventFrame): number | undefined {
  return frame.id !== undefined && EVENT_NUMBER.test(frame.id) ? Number(frame.id) : undefined;
}

/** A break of the connection that started the stream: it closed after the head arrived, or went idle. */
function isBreak(error: unknown, headArrived: boolean): boolean {
  return (error instanceof APIConnectionError && headArrived) || (error instanceof StreamTimeoutError && error.phase === 'idle');
}

/** A re-attach that failed in a way another may not: a break, a timeout, a relay briefly down (5xx, 429). */
function isReattachable(error: unknown): boolean {
  return isRetryableError(error) && !isNotFound(error);
}

function isNotFound(error: unknown): error is APIError {
  return error instanceof APIError && error.status === 404 && !error.inStream;
}

/** The relay's `retry-after` (bounded), else an exponential backoff with full jitter. */
function delayFor(error: unknown, failures: number, config: ResumeConfig): number {
  if (error instanceof APIError && error.retryAfterMs !== undefined) return Math.min(error.retryAfterMs, MAX_RETRY_AFTER_MS);
  const initial = config.initialDelayMs ?? DEFAULT_INITIAL_DELAY_MS;
  const ceiling = Math.min(config.maxDelayMs ?? DEFAULT_MAX_DELAY_MS, initial * 2 ** (failures - 1));
  return Math.round(Math.random() * ceiling);
}
