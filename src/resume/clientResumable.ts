import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscriber, type Subscription, type TeardownLogic } from 'rxjs';
import { APIConnectionError, APIError, StreamAbortError, StreamTimeoutError } from '../errors.js';
import { errorInFrame } from '../openai/streamErrors.js';
import { isRetryableError } from '../operators/retryStream.js';
import { isFinishingFrame } from '../sse/finishingFrame.js';
import { onAbort } from '../sse/onAbort.js';
import { sseFrames } from '../sse/sseFrames.js';
import type { SseEventFrame, SseFrame, SseRequest } from '../sse/types.js';
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
   * Whether leaving a generation that still runs (unsubscribing, the request's signal, a timeout, an error of the
   * pipeline, an error not re-attached) sends `POST …/streams/{id}/cancel`; default `true`. `false` leaves the
   * generation running on the relay, to be picked up later with `client.resumeStream(id)` (the relay aborts it if nobody
   * re-attaches within its `abandonAfterMs`).
   */
  cancelOnUnsubscribe?: boolean;
  /** Schedules the backoff; default the client's scheduler, else `asyncScheduler`. */
  scheduler?: SchedulerLike;
}

/** A request's `resume` option. */
export type ResumeOption = boolean | ResumeConfig;

/**
 * What a resumable stream does after its first request, made by the client. It lives as long as the stream, so it
 * keeps nothing of that request: neither its maker, which holds the caller's params, nor the request, whose body is
 * their JSON.
 */
export interface ResumePlan {
  /** The stream's id when it is known before the first response (`client.resumeStream`); else its `x-stream-id`. */
  streamId?: string;
  /** The last event id seen before the first request; 0 when it starts the generation. */
  after: number;
  /** The `GET …/streams/{id}` with `Last-Event-ID: after`. */
  reattach: (streamId: string, after: number) => SseRequest;
  /** Sends the cancel; never throws. */
  cancel: (streamId: string) => void;
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
 * One unbroken stream of frames through `pipeline`. When a connection of a
 * relay in resume mode breaks mid-stream (the connection closed after the
 * head, or the idle timeout fired), the frames go on from a
 * `GET …/streams/{id}` with `Last-Event-ID`: each frame reaches `pipeline`
 * once, comments too (the frames after an event are the same on every read,
 * so the comments already delivered since the last id are skipped). Other
 * errors pass through; a relay that no longer knows the stream is a
 * `StreamNotFoundError`. The first request's `head` is called once, with the
 * first response's head.
 *
 * Leaving a generation that still runs stops it: unsubscribing, the
 * request's signal, a timeout or an error of the pipeline abort the
 * connection and send the cancel (once the stream id is known). A generation
 * that is over (the stream completed, or its last event or an error event
 * arrived) sends none, however the subscriber leaves. A `totalMs` timeout
 * bounds the whole stream, re-attaches included.
 *
 * `makeFirst` makes the first request at each subscription (a throw ends that subscription with it); the
 * request's `signal`, `timeout`, `scheduler` and `head` are the whole stream's.
 *
 * @example
 * resumable(() => sseRequest(config, '/chat/completions', params), plan, { attempts: 3 }, chatChunks()).subscribe(render);
 */
export function resumable<T>(makeFirst: () => SseRequest, plan: ResumePlan, config: ResumeConfig, pipeline: OperatorFunction<SseFrame, T>): Observable<T> {
  return new Observable<SseFrame>((subscriber) => followStream(subscriber, makeFirst(), plan, config)).pipe(pipeline);
}

/**
 * One subscription's frames, from `firstRequest` on. A function of its own: the closures made here live as long as
 * the stream, so none may capture `makeFirst` (it holds the caller's params) or `firstRequest` (its body is their JSON).
 */
function followStream(subscriber: Subscriber<SseFrame>, firstRequest: SseRequest, plan: ResumePlan, config: ResumeConfig): TeardownLogic {
  /** The stream's id once known, and whether the generation is over (nothing to cancel). */
  const stream = { id: plan.streamId, over: false };
  const scheduler = config.scheduler ?? firstRequest.scheduler ?? asyncScheduler;
  const { totalMs, ...timeout } = firstRequest.timeout ?? {};
  const position = framePosition(plan.after);
  let head = firstRequest.head;
  let failures = 0;
  let connection: Subscription | undefined;
  let pause: Subscription | undefined;

  const connect = (request: SseRequest, reattaching: boolean) => {
    let headArrived = false;
    connection?.unsubscribe();
    connection = sseFrames({
      ...request,
      timeout,
      head(response) {
        headArrived = true;
        if (stream.id === undefined && STREAM_ID.test(response.streamId ?? '')) stream.id = response.streamId;
        head?.(response);
        head = undefined;
      },
    }).subscribe({
      next(frame) {
        const admitted = position.admit(frame);
        if (admitted === 'delivered') return;
        // A new event: the stream moves on, so the re-attaches that failed before it do not count any more.
        if (admitted === 'event') failures = 0;
        if (endsGeneration(frame)) stream.over = true;
        subscriber.next(frame);
      },
      error(error: unknown) {
        if (reattaching && isNotFound(error)) {
          stream.over = true;
          subscriber.error(new StreamNotFoundError({ ...error, message: error.message }));
        } else if (reattaching ? isRetryableError(error) : isBreak(error, headArrived)) reattach(error);
        else subscriber.error(error);
      },
      complete() {
        stream.over = true;
        subscriber.complete();
      },
    });
  };
  const reattach = (error: unknown) => {
    const id = stream.id;
    if (id === undefined || failures >= (config.attempts ?? DEFAULT_ATTEMPTS)) return subscriber.error(error);
    failures++;
    position.rewind();
    pause = scheduler.schedule(() => connect(plan.reattach(id, position.last()), true), delayFor(error, failures, config));
  };

  const { signal } = firstRequest;
  const aborted = () => subscriber.error(new StreamAbortError({ reason: signal?.reason }));
  const stopWatching = signal && onAbort(signal, aborted);
  const total = totalMs === undefined ? undefined : scheduler.schedule(() => subscriber.error(new StreamTimeoutError({ phase: 'total', timeoutMs: totalMs })), totalMs);
  if (signal?.aborted) aborted();
  else connect(firstRequest, plan.streamId !== undefined);
  return () => {
    stopWatching?.();
    total?.unsubscribe();
    pause?.unsubscribe();
    connection?.unsubscribe();
    // Here rather than in a finalize after the pipeline: one there would be a closure of `resumable`, keeping `makeFirst`.
    if (!stream.over && stream.id !== undefined && config.cancelOnUnsubscribe !== false) plan.cancel(stream.id);
  };
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

/** Whether the generation is over once `frame` arrived: its last event, or an error event. */
function endsGeneration(frame: SseFrame): boolean {
  return isFinishingFrame(frame) || (frame.type === 'event' && errorInFrame(frame) !== undefined);
}

/** A break of the connection that started the stream: it closed after the head arrived, or went idle. */
function isBreak(error: unknown, headArrived: boolean): boolean {
  return (error instanceof APIConnectionError && headArrived) || (error instanceof StreamTimeoutError && error.phase === 'idle');
}

/** The relay's answer to a re-attach to a stream it does not know (an error event inside a stream is not one). */
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
