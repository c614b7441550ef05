import { Observable, type Subscription } from 'rxjs';
import {
  APIConnectionError,
  InvalidRequestError,
  StreamAbortError,
  StreamProtocolError,
  StreamTimeoutError,
  StreamTruncatedError,
  type TimeoutPhase,
} from '../errors.js';
import type { ByteStream, TransportResponse } from '../transport/types.js';
import { createSseDecoder } from './decodeSse.js';
import { onAbort } from './onAbort.js';
import { apiErrorFromResponse, readErrorObject } from './httpErrors.js';
import { readText } from './readText.js';
import { DEFAULT_MAX_EVENT_SIZE, type SseFrame, type SseRequest } from './types.js';

/** Error bodies are read up to this size; the rest is discarded. */
const ERROR_BODY_LIMIT = 64 * 1024;


/**
 * The cold source of raw SSE frames. Subscribing sends the request;
 * unsubscribing aborts it at once and destroys the socket. No frame reaches a
 * subscriber that has left, even one decoded from the same network read.
 *
 * @example
 * sseFrames({ transport: undiciTransport(), url, method: 'POST', headers, body })
 *   .pipe(takeUntil(stop$))
 *   .subscribe((frame) => console.log(frame));
 */
export function sseFrames(request: SseRequest): Observable<SseFrame> {
  return new Observable<SseFrame>((subscriber) => {
    const { signal, timeout = {} } = request;
    if (signal?.aborted) {
      subscriber.error(new StreamAbortError({ reason: signal.reason }));
      return;
    }

    const controller = new AbortController();
    const maxEventSize = request.maxEventSize ?? DEFAULT_MAX_EVENT_SIZE;
    let body: ByteStream | undefined;
    let bodyFinished = false;
    let paused = false;
    let sawDataEvent = false;
    let lastDataAt = 0;
    let phaseTimer: ReturnType<typeof setTimeout> | undefined;
    let totalTimer: ReturnType<typeof setTimeout> | undefined;
    let pauseSubscription: Subscription | undefined;

    const fail = (error: unknown) => {
      if (!subscriber.closed) subscriber.error(error);
    };
    const timeoutAfter = (phase: TimeoutPhase, ms: number | undefined) => {
      clearTimeout(phaseTimer);
      phaseTimer = ms === undefined ? undefined : setTimeout(() => fail(new StreamTimeoutError({ phase, timeoutMs: ms })), ms);
    };
    // One timer per stall instead of one per event: it re-arms itself for the time left since the last data event.
    const watchIdle = (idleMs: number, waitMs: number) => {
      phaseTimer = setTimeout(() => {
        const quietFor = performance.now() - lastDataAt;
        if (paused || quietFor < idleMs) watchIdle(idleMs, paused ? idleMs : idleMs - quietFor);
        else fail(new StreamTimeoutError({ phase: 'idle', timeoutMs: idleMs }));
      }, waitMs);
    };

    const decoder = createSseDecoder(
      {
        frame(frame) {
          if (subscriber.closed) return;
          if (frame.type === 'event') {
            if (!sawDataEvent) {
              sawDataEvent = true;
              clearTimeout(phaseTimer);
              if (timeout.idleMs !== undefined) watchIdle(timeout.idleMs, timeout.idleMs);
            }
            if (timeout.idleMs !== undefined) lastDataAt = performance.now();
          }
          subscriber.next(frame);
        },
        cut(partialLine) {
          fail(new StreamTruncatedError({ message: 'The stream ended in the middle of an event', partial: partialLine }));
        },
        oversize() {
          fail(
            new StreamProtocolError({
              message: `An SSE event exceeded the maximum size of ${maxEventSize} characters`,
              problem: 'event-too-large',
            }),
          );
        },
      },
      maxEventSize,
    );

    const readEvents = (stream: ByteStream) => {
      timeoutAfter('first-event', timeout.firstEventMs);
      stream.read({
        data(chunk) {
          if (!subscriber.closed) decoder.feed(chunk);
        },
        end() {
          bodyFinished = true;
          if (subscriber.closed) return;
          decoder.end();
          if (!subscriber.closed) subscriber.complete();
        },
        error(cause) {
          const reason = describeCause(cause);
          fail(new APIConnectionError({ message: `The connection closed before the stream ended${reason ? `: ${reason}` : ''}`, cause }));
        },
      });
      if (request.pause$) {
        pauseSubscription = request.pause$.subscribe((pause) => {
          if (pause === paused) return;
          paused = pause;
          if (pause) stream.pause();
          else {
            lastDataAt = performance.now();
            stream.resume();
          }
        });
      }
    };

    const rejectResponse = (response: TransportResponse, unexpectedType: boolean) => {
      // An error body that stalls is not waited for longer than a stream would be: the error keeps what arrived.
      const bodyWaitMs = timeout.idleMs ?? timeout.firstEventMs;
      const stopReading = bodyWaitMs === undefined ? undefined : new AbortController();
      if (stopReading) phaseTimer = setTimeout(() => stopReading.abort(), bodyWaitMs);
      readText(response.body, ERROR_BODY_LIMIT, stopReading?.signal).then(({ text }) => {
        bodyFinished = true;
        clearTimeout(phaseTimer);
        if (subscriber.closed) return;
        const error = apiErrorFromResponse(response.status, response.headers, text);
        if (!unexpectedType || readErrorObject(error.body)) fail(error);
        else {
          const contentType = response.headers['content-type'] ?? '(none)';
          fail(
            new StreamProtocolError({
              message: `Expected an event stream but got content-type ${contentType}: ${error.message}`,
              problem: 'content-type',
              data: text,
            }),
          );
        }
      }, (cause: unknown) => fail(new APIConnectionError({ message: 'The connection closed while reading an error response', cause })));
    };

    const onResponse = (response: TransportResponse) => {
      if (subscriber.closed) {
        response.body.cancel();
        return;
      }
      body = response.body;
      clearTimeout(phaseTimer);
      const isOk = response.status >= 200 && response.status < 300;
      const isEventStream = /^text\/event-stream\b/i.test(response.headers['content-type'] ?? '');
      if (!isOk || !isEventStream) {
        rejectResponse(response, isOk);
        return;
      }
      request.onResponse?.({ status: response.status, headers: response.headers });
      if (!subscriber.closed) readEvents(response.body);
    };

    const stopWatchingSignal = signal && onAbort(signal, () => fail(new StreamAbortError({ reason: signal.reason })));
    if (timeout.totalMs !== undefined) {
      const totalMs = timeout.totalMs;
      totalTimer = setTimeout(() => fail(new StreamTimeoutError({ phase: 'total', timeoutMs: totalMs })), totalMs);
    }
    timeoutAfter('headers', timeout.headersMs);
    // A transport that throws instead of rejecting, or an `onResponse` callback that throws, still ends the stream
    // through `fail`: nothing escapes as an unhandled rejection, and the teardown below is in place either way.
    // The transport's own promise is chained as it is, not re-wrapped: a transport that settles inside a
    // scheduler action (openai-rx/testing's scriptedTransport) is then seen in TestScheduler's virtual time.
    const headers = request.headers ?? {};
    const unsendable = Object.keys(headers).find((name) => UNSENDABLE.test(headers[name]));
    if (unsendable !== undefined) {
      // The value is not quoted: it is most likely the API key.
      fail(new InvalidRequestError({ message: `The value of header '${unsendable}' has a CR, LF or NUL character and cannot be sent` }));
      return teardown;
    }
    let response: Promise<TransportResponse>;
    try {
      response = request.transport({
        url: request.url,
        method: request.method ?? 'POST',
        headers,
        body: request.body,
        signal: controller.signal,
      });
    } catch (error) {
      response = Promise.reject(error);
    }
    response.then(onResponse, (cause: unknown) => fail(transportError(request.url, cause))).then(undefined, fail);
    return teardown;

    function teardown() {
      stopWatchingSignal?.();
      clearTimeout(phaseTimer);
      clearTimeout(totalTimer);
      pauseSubscription?.unsubscribe();
      if (!bodyFinished) {
        controller.abort();
        body?.cancel();
      }
    }
  });
}

/** A character no HTTP stack will send in a header value. */
const UNSENDABLE = /[\r\n\0]/;

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
