import { asyncScheduler, from, Observable, throwError, timer, type Subscriber, type Subscription, type TeardownLogic } from 'rxjs';
import {
  APIConnectionError,
  InvalidRequestError,
  StreamAbortError,
  StreamProtocolError,
  StreamTimeoutError,
  StreamTruncatedError,
  type TimeoutPhase,
} from '../errors.js';
import { scheduleUnref } from '../scheduleUnref.js';
import type { ByteStream, TransportResponse } from '../transport/types.js';
import { createSseDecoder } from './decodeSse.js';
import { isFinishingFrame } from './finishingFrame.js';
import { apiErrorFromResponse, readErrorObject, requestIdOf } from './httpErrors.js';
import { onAbort } from './onAbort.js';
import { readText } from './readText.js';
import { DEFAULT_MAX_EVENT_SIZE, type SseFrame, type SseRequest } from './types.js';
import { watchIdle, type IdleWatch } from './watchIdle.js';

/** Error bodies are read up to this size; the rest is discarded. */
const ERROR_BODY_LIMIT = 64 * 1024;

/**
 * How long a response that has finished (its last frame was `[DONE]` or a
 * terminal Responses event) may take to end its body once nobody listens. The
 * last bytes usually arrive in the same read; destroying the socket instead
 * would cost a new TLS handshake on the next request.
 */
export const FINISHED_BODY_GRACE_MS = 1000;

/**
 * The cold source of raw SSE frames. Subscribing sends the request;
 * unsubscribing aborts it at once and destroys the socket. No frame reaches a
 * subscriber that has left, even one decoded from the same network read. The
 * one exception to the abort: a response whose last frame finished it is left
 * {@link FINISHED_BODY_GRACE_MS} to end, so that its connection can be reused.
 *
 * @example
 * sseFrames({ transport: undiciTransport(), url, method: 'POST', headers, body })
 *   .pipe(takeUntil(stop$))
 *   .subscribe((frame) => console.log(frame));
 */
export function sseFrames(request: SseRequest): Observable<SseFrame> {
  return eventStream(request, {});
}

/** What a relay adds to a request, beside what every caller may ask for (see ./pausedBy.ts). */
export interface StreamPlumbing {
  /**
   * Called once the body is read; may pause and resume it (backpressure reaches the server through TCP), telling
   * `paused` first, so that silence while paused is no idle timeout. Its subscription ends with the stream.
   */
  control?: (body: ByteStream, paused: (paused: boolean) => void, fail: (error: unknown) => void) => Subscription;
}

/** {@link sseFrames} with the relay's plumbing. */
export function eventStream(request: SseRequest, plumbing: StreamPlumbing): Observable<SseFrame> {
  return eventSource<SseFrame>(request, plumbing, (output) =>
    createSseDecoder(
      {
        frame(frame) {
          if (output.frame(frame)) output.next(frame);
        },
        cut: (partialLine) => output.fail(new StreamTruncatedError({ message: 'The stream ended in the middle of an event', partial: partialLine })),
        oversize: output.oversize,
      },
      output.maxEventSize,
    ),
  );
}

/** Where a body decoder of {@link eventSource} hands what it decoded. */
export interface DecodedOutput<T> {
  readonly maxEventSize: number;
  /** Every frame decoded, before it is handed on: the timeouts watch them. `false` once nobody listens. */
  frame(frame: SseFrame): boolean;
  /** A data event, for a decoder that does not parse every frame: the timeouts watch it. `false` once nobody listens. */
  dataEvent(): boolean;
  next(value: T): void;
  fail(error: unknown): void;
  oversize(): void;
}

/** Turns the body's bytes into values for {@link eventSource}. */
export interface BodyDecoder {
  feed(chunk: Uint8Array): void;
  /** The body ended. */
  end(): void;
}

/**
 * The request, its timeouts and its teardown, whatever the body is decoded
 * into: frames for {@link sseFrames}, blocks of bytes for the relay.
 */
export function eventSource<T>(
  request: SseRequest,
  plumbing: StreamPlumbing,
  decoding: (output: DecodedOutput<T>) => BodyDecoder,
): Observable<T> {
  return new Observable<T>((subscriber) => openEventSource(subscriber, request, plumbing, decoding));
}

/**
 * One subscription of {@link eventSource}. None of its closures sees `request`, nor does any chain to a scope
 * that does: an open stream would keep the request's body, which may be a whole conversation.
 */
function openEventSource<T>(
  subscriber: Subscriber<T>,
  request: SseRequest,
  plumbing: StreamPlumbing,
  decoding: (output: DecodedOutput<T>) => BodyDecoder,
): TeardownLogic {
  const scheduler = request.scheduler ?? asyncScheduler;
  const timeout = request.timeout ?? {};
  const maxEventSize = request.maxEventSize ?? DEFAULT_MAX_EVENT_SIZE;
  const { head, url } = request;
  const controller = new AbortController();
  const subscriptions: Subscription[] = [];
  let body: ByteStream | undefined;
  let bodyFinished = false;
  let onBodyEnd: (() => void) | undefined;
  let lastFrame: SseFrame | undefined;
  let sawDataEvent = false;
  let isPaused = false;
  let idle: IdleWatch | undefined;
  let phaseTimer: Subscription | undefined;
  let stopWatchingSignal: (() => void) | undefined;

  const fail = (error: unknown) => {
    if (!subscriber.closed) subscriber.error(error);
  };
  const timeoutAfter = (phase: TimeoutPhase, ms: number | undefined) =>
    ms === undefined ? undefined : scheduler.schedule(() => fail(new StreamTimeoutError({ phase, timeoutMs: ms })), ms);
  const finishBody = () => {
    bodyFinished = true;
    onBodyEnd?.();
  };

  const firstDataEvent = () => {
    sawDataEvent = true;
    phaseTimer?.unsubscribe();
    const { idleMs } = timeout;
    if (idleMs === undefined) return;
    // A stalled reader is the relay's to bound (stalledClientMs): while paused, silence is not upstream's fault.
    idle = watchIdle(
      idleMs,
      () => {
        if (!isPaused) fail(new StreamTimeoutError({ phase: 'idle', timeoutMs: idleMs }));
      },
      scheduler,
    );
  };
  const dataEvent = () => {
    if (!sawDataEvent) firstDataEvent();
    idle?.touch();
  };
  const decoder = decoding({
    maxEventSize,
    frame(frame) {
      if (subscriber.closed) return false;
      if (frame.type === 'event') dataEvent();
      lastFrame = frame;
      return true;
    },
    dataEvent() {
      if (subscriber.closed) return false;
      dataEvent();
      return true;
    },
    next: (value) => subscriber.next(value),
    fail,
    oversize: () =>
      fail(new StreamProtocolError({ message: `An SSE event exceeded the maximum size of ${maxEventSize} characters`, problem: 'event-too-large' })),
  });

  const readEvents = (stream: ByteStream) => {
    phaseTimer = timeoutAfter('first-event', timeout.firstEventMs);
    stream.read({
      data(chunk) {
        if (!subscriber.closed) decoder.feed(chunk);
      },
      end() {
        finishBody();
        if (subscriber.closed) return;
        decoder.end();
        if (!subscriber.closed) subscriber.complete();
      },
      error(cause) {
        // The body is over either way: a finished response's grace has nothing left to wait for.
        finishBody();
        const reason = describeCause(cause);
        fail(new APIConnectionError({ message: `The connection closed before the stream ended${reason ? `: ${reason}` : ''}`, cause }));
      },
    });
    const paused = (pause: boolean) => {
      isPaused = pause;
      if (!pause) idle?.touch();
    };
    if (plumbing.control) subscriptions.push(plumbing.control(stream, paused, fail));
  };

  /** A non-2xx answer, or a 2xx that is not an event stream: its body (bounded in size and time) becomes the error. */
  const reject = (response: TransportResponse, isOk: boolean) => {
    // An error body that stalls is not waited for longer than a stream would be: the error keeps what arrived.
    const bodyWaitMs = timeout.idleMs ?? timeout.firstEventMs;
    const stop$ = bodyWaitMs === undefined ? undefined : timer(bodyWaitMs, scheduler);
    subscriptions.push(
      readText(response.body, ERROR_BODY_LIMIT, stop$).subscribe({
        next({ text }) {
          finishBody();
          fail(errorForResponse(response, text, isOk));
        },
        error: (cause: unknown) => fail(new APIConnectionError({ message: 'The connection closed while reading an error response', cause })),
      }),
    );
  };

  const onResponse = (response: TransportResponse) => {
    if (subscriber.closed) {
      response.body.cancel();
      return;
    }
    body = response.body;
    phaseTimer?.unsubscribe();
    const isOk = response.status >= 200 && response.status < 300;
    if (!isOk || !/^text\/event-stream\b/i.test(response.headers['content-type'] ?? '')) {
      reject(response, isOk);
      return;
    }
    const { headers } = response;
    head?.({ status: response.status, headers, requestId: requestIdOf(headers), streamId: headers['x-stream-id'] });
    if (!subscriber.closed) readEvents(response.body);
  };

  /** Nobody listens any more, but the response was finished: its body may end by itself and keep the connection. */
  const releaseFinished = (stream: ByteStream) => {
    // A finished response must not keep a process alive.
    const grace = scheduleUnref(
      scheduler,
      () => {
        controller.abort();
        stream.cancel();
      },
      FINISHED_BODY_GRACE_MS,
    );
    onBodyEnd = () => grace.unsubscribe();
  };

  const start = (sending: SseRequest) => {
    const { signal, headers = {} } = sending;
    if (signal?.aborted) return fail(new StreamAbortError({ reason: signal.reason }));
    const unsendable = Object.keys(headers).find((name) => UNSENDABLE.test(headers[name]));
    // The value is not quoted: it is most likely the API key.
    if (unsendable !== undefined) {
      return fail(new InvalidRequestError({ message: `The value of header '${unsendable}' has a CR, LF or NUL character and cannot be sent` }));
    }
    if (signal) stopWatchingSignal = onAbort(signal, () => fail(new StreamAbortError({ reason: signal.reason })));
    const total = timeoutAfter('total', timeout.totalMs);
    if (total) subscriptions.push(total);
    phaseTimer = timeoutAfter('headers', timeout.headersMs);
    subscriptions.push(
      send(sending, controller.signal).subscribe({
        next(response) {
          // A callback that throws (the caller's `head`) ends the stream instead of escaping.
          try {
            onResponse(response);
          } catch (error) {
            fail(error);
          }
        },
        error: (cause: unknown) => fail(transportError(url, cause)),
      }),
    );
  };

  start(request);
  return () => {
    stopWatchingSignal?.();
    phaseTimer?.unsubscribe();
    idle?.stop();
    for (const subscription of subscriptions) subscription.unsubscribe();
    if (bodyFinished) return;
    if (body && isFinishingFrame(lastFrame)) releaseFinished(body);
    else {
      controller.abort();
      body?.cancel();
    }
  };
}

function send(request: SseRequest, signal: AbortSignal): Observable<TransportResponse> {
  try {
    return from(
      request.transport({ url: request.url, method: request.method ?? 'POST', headers: request.headers ?? {}, body: request.body, signal }),
    );
  } catch (error) {
    return throwError(() => error);
  }
}

function errorForResponse(response: TransportResponse, text: string, isOk: boolean): Error {
  const error = apiErrorFromResponse(response.status, response.headers, text);
  if (!isOk || readErrorObject(error.body)) return error;
  const contentType = response.headers['content-type'] ?? '(none)';
  return new StreamProtocolError({
    message: `Expected an event stream but got content-type ${contentType}: ${error.message}`,
    problem: 'content-type',
    data: text,
  });
}

/** A character no HTTP stack will send in a header value. */
export const UNSENDABLE = /[\r\n\0]/;

/** undici's and Node's codes for a request that is malformed, not a network that failed. */
const INVALID_REQUEST_CODES = new Set(['UND_ERR_INVALID_ARG', 'ERR_INVALID_URL', 'ERR_INVALID_CHAR', 'ERR_INVALID_ARG_VALUE']);

/** What a transport's rejection means: a request that cannot be sent as it is, or a connection that failed. */
function transportError(url: string, cause: unknown): InvalidRequestError | APIConnectionError {
  const { code, cause: inner } = (typeof cause === 'object' && cause !== null ? cause : {}) as { code?: unknown; cause?: { code?: unknown } };
  if (INVALID_REQUEST_CODES.has(String(code)) || INVALID_REQUEST_CODES.has(String(inner?.code))) {
    return new InvalidRequestError({ message: `The request could not be sent: ${describeCause(cause)}`, cause });
  }
  return new APIConnectionError({ message: connectionMessage(url, cause), cause });
}

/** Names only the origin: a URL's path or query may carry a credential (`?key=`). */
function connectionMessage(url: string, cause: unknown): string {
  let origin = 'the server';
  try {
    origin = new URL(url).origin;
  } catch {
    // An unparsable URL is named by nobody.
  }
  const reason = describeCause(cause);
  return `Could not connect to ${origin}${reason ? `: ${reason}` : ''}`;
}

/**
 * `fetch failed (ECONNREFUSED)`, `connect ECONNREFUSED 127.0.0.1:8080`. Duck-typed: errors from Node's
 * core or another realm are not `instanceof` this realm's `Error`.
 */
function describeCause(cause: unknown): string {
  if (typeof cause !== 'object' || cause === null) return '';
  const { message, code, cause: inner } = cause as { message?: unknown; code?: unknown; cause?: { code?: unknown; message?: unknown } };
  const text = typeof message === 'string' ? message : '';
  // fetch's own message is always `fetch failed`; what went wrong is in its cause.
  const detail = [code, inner?.code, inner?.message].find((value): value is string => typeof value === 'string' && value !== '');
  if (detail === undefined || text.includes(detail)) return text;
  return text ? `${text} (${detail})` : detail;
}
