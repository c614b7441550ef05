import { asyncScheduler, from, Observable, throwError, timer, type SchedulerLike, type Subscriber, type Subscription } from 'rxjs';
import {
  APIConnectionError,
  InvalidRequestError,
  OpenAIRxError,
  StreamAbortError,
  StreamProtocolError,
  StreamTimeoutError,
  StreamTruncatedError,
  type TimeoutPhase,
} from '../errors.js';
import type { ByteStream, TransportResponse } from '../transport/types.js';
import { createSseDecoder, type SseDecoder } from './decodeSse.js';
import { apiErrorFromResponse, readErrorObject, requestIdOf } from './httpErrors.js';
import { onAbort } from './onAbort.js';
import { readText } from './readText.js';
import { DEFAULT_MAX_EVENT_SIZE, type SseFrame, type SseRequest, type StreamTimeouts } from './types.js';
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

/** What a relay adds to a request, beside what every caller may ask for. */
export interface StreamPlumbing {
  /** While it emits `true` the body is not read: backpressure reaches the server through TCP. */
  pause$?: Observable<boolean>;
}

/** {@link sseFrames} with the relay's plumbing. */
export function eventStream(request: SseRequest, plumbing: StreamPlumbing): Observable<SseFrame> {
  return new Observable<SseFrame>((subscriber) => {
    const stream = new EventStream(request, plumbing, subscriber);
    stream.start();
    return () => stream.close();
  });
}

/** One request of {@link eventStream}, from subscribe to teardown. */
class EventStream {
  private readonly controller = new AbortController();
  private readonly scheduler: SchedulerLike;
  private readonly timeout: StreamTimeouts;
  private readonly decoder: SseDecoder;
  private body: ByteStream | undefined;
  private bodyFinished = false;
  private onBodyEnd: (() => void) | undefined;
  private lastFrame: SseFrame | undefined;
  private sawDataEvent = false;
  private paused = false;
  private idle: IdleWatch | undefined;
  private phaseTimer: Subscription | undefined;
  private readonly subscriptions: Subscription[] = [];
  private stopWatchingSignal: (() => void) | undefined;

  constructor(
    private readonly request: SseRequest,
    private readonly plumbing: StreamPlumbing,
    private readonly subscriber: Subscriber<SseFrame>,
  ) {
    this.scheduler = request.scheduler ?? asyncScheduler;
    this.timeout = request.timeout ?? {};
    const maxEventSize = request.maxEventSize ?? DEFAULT_MAX_EVENT_SIZE;
    this.decoder = createSseDecoder(
      {
        frame: (frame) => this.deliver(frame),
        cut: (partialLine) =>
          this.fail(new StreamTruncatedError({ message: 'The stream ended in the middle of an event', partial: partialLine })),
        oversize: () =>
          this.fail(
            new StreamProtocolError({
              message: `An SSE event exceeded the maximum size of ${maxEventSize} characters`,
              problem: 'event-too-large',
            }),
          ),
      },
      maxEventSize,
    );
  }

  start(): void {
    const { signal, headers = {} } = this.request;
    if (signal?.aborted) {
      this.fail(new StreamAbortError({ reason: signal.reason }));
      return;
    }
    const unsendable = Object.keys(headers).find((name) => UNSENDABLE.test(headers[name]));
    if (unsendable !== undefined) {
      // The value is not quoted: it is most likely the API key.
      this.fail(
        new InvalidRequestError({ message: `The value of header '${unsendable}' has a CR, LF or NUL character and cannot be sent` }),
      );
      return;
    }
    if (signal) this.stopWatchingSignal = onAbort(signal, () => this.fail(new StreamAbortError({ reason: signal.reason })));
    const total = this.timeoutAfter('total', this.timeout.totalMs);
    if (total) this.subscriptions.push(total);
    this.phaseTimer = this.timeoutAfter('headers', this.timeout.headersMs);
    this.subscriptions.push(
      this.send().subscribe({
        next: (response) => this.guard(() => this.onResponse(response)),
        error: (cause: unknown) => this.fail(transportError(this.request.url, cause)),
      }),
    );
  }

  close(): void {
    this.stopWatchingSignal?.();
    this.phaseTimer?.unsubscribe();
    this.idle?.stop();
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    if (this.bodyFinished) return;
    if (this.body && isFinishing(this.lastFrame)) this.releaseFinished(this.body);
    else {
      this.controller.abort();
      this.body?.cancel();
    }
  }

  private send(): Observable<TransportResponse> {
    const { request } = this;
    try {
      return from(
        request.transport({
          url: request.url,
          method: request.method ?? 'POST',
          headers: request.headers ?? {},
          body: request.body,
          signal: this.controller.signal,
        }),
      );
    } catch (error) {
      return throwError(() => error);
    }
  }

  private onResponse(response: TransportResponse): void {
    if (this.subscriber.closed) {
      response.body.cancel();
      return;
    }
    this.body = response.body;
    this.phaseTimer?.unsubscribe();
    const isOk = response.status >= 200 && response.status < 300;
    const isEventStream = /^text\/event-stream\b/i.test(response.headers['content-type'] ?? '');
    if (!isOk || !isEventStream) {
      this.reject(response, isOk);
      return;
    }
    const { headers } = response;
    this.request.head?.({ status: response.status, headers, requestId: requestIdOf(headers), streamId: headers['x-stream-id'] });
    if (!this.subscriber.closed) this.readEvents(response.body);
  }

  private readEvents(body: ByteStream): void {
    this.phaseTimer = this.timeoutAfter('first-event', this.timeout.firstEventMs);
    body.read({
      data: (chunk) => {
        if (!this.subscriber.closed) this.decoder.feed(chunk);
      },
      end: () => {
        this.finishBody();
        if (this.subscriber.closed) return;
        this.decoder.end();
        if (!this.subscriber.closed) this.subscriber.complete();
      },
      error: (cause) => {
        const reason = describeCause(cause);
        this.fail(new APIConnectionError({ message: `The connection closed before the stream ended${reason ? `: ${reason}` : ''}`, cause }));
      },
    });
    const { pause$ } = this.plumbing;
    if (pause$) {
      this.subscriptions.push(
        pause$.subscribe({
          next: (pause) => this.setPaused(body, pause),
          error: (cause: unknown) => this.fail(new OpenAIRxError({ message: 'The pause signal of the stream failed', cause })),
        }),
      );
    }
  }

  private deliver(frame: SseFrame): void {
    if (this.subscriber.closed) return;
    if (frame.type === 'event') {
      if (!this.sawDataEvent) this.firstDataEvent();
      this.idle?.touch();
    }
    this.lastFrame = frame;
    this.subscriber.next(frame);
  }

  private firstDataEvent(): void {
    this.sawDataEvent = true;
    this.phaseTimer?.unsubscribe();
    const { idleMs } = this.timeout;
    if (idleMs === undefined) return;
    // A stalled reader is the relay's to bound (stalledClientMs): while paused, silence is not upstream's fault.
    this.idle = watchIdle(
      idleMs,
      () => {
        if (!this.paused) this.fail(timeoutError('idle', idleMs));
      },
      this.scheduler,
    );
  }

  private setPaused(body: ByteStream, pause: boolean): void {
    if (pause === this.paused) return;
    this.paused = pause;
    if (pause) body.pause();
    else {
      this.idle?.touch();
      body.resume();
    }
  }

  /** A non-2xx answer, or a 2xx that is not an event stream: its body (bounded in size and time) becomes the error. */
  private reject(response: TransportResponse, isOk: boolean): void {
    const { idleMs, firstEventMs } = this.timeout;
    // An error body that stalls is not waited for longer than a stream would be: the error keeps what arrived.
    const bodyWaitMs = idleMs ?? firstEventMs;
    const stop$ = bodyWaitMs === undefined ? undefined : timer(bodyWaitMs, this.scheduler);
    this.subscriptions.push(
      readText(response.body, ERROR_BODY_LIMIT, stop$).subscribe({
        next: ({ text }) => {
          this.finishBody();
          this.fail(errorForResponse(response, text, isOk));
        },
        error: (cause: unknown) => this.fail(new APIConnectionError({ message: 'The connection closed while reading an error response', cause })),
      }),
    );
  }

  /** Nobody listens any more, but the response was finished: its body may end by itself and keep the connection. */
  private releaseFinished(body: ByteStream): void {
    const grace = this.scheduler.schedule(() => {
      this.controller.abort();
      body.cancel();
    }, FINISHED_BODY_GRACE_MS);
    // A finished response must not keep a process alive (asyncScheduler's action holds a Node timer as `id`).
    (grace as { id?: { unref?: () => void } }).id?.unref?.();
    this.onBodyEnd = () => grace.unsubscribe();
  }

  private finishBody(): void {
    this.bodyFinished = true;
    this.onBodyEnd?.();
  }

  private timeoutAfter(phase: TimeoutPhase, ms: number | undefined): Subscription | undefined {
    return ms === undefined ? undefined : this.scheduler.schedule(() => this.fail(timeoutError(phase, ms)), ms);
  }

  /** A callback of ours or the caller's (`head`) that throws ends the stream instead of escaping. */
  private guard(run: () => void): void {
    try {
      run();
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    if (!this.subscriber.closed) this.subscriber.error(error);
  }
}

function timeoutError(phase: TimeoutPhase, timeoutMs: number): StreamTimeoutError {
  return new StreamTimeoutError({ phase, timeoutMs });
}

/** A frame after which the response is complete: `[DONE]`, or a Responses event that ends the response. */
function isFinishing(frame: SseFrame | undefined): boolean {
  if (frame?.type !== 'event') return false;
  if (frame.data === '[DONE]') return true;
  if (!frame.data.includes('"type"')) return false;
  try {
    return FINISHING_TYPES.has((JSON.parse(frame.data) as { type?: unknown }).type);
  } catch {
    return false;
  }
}

const FINISHING_TYPES = new Set<unknown>(['response.completed', 'response.incomplete', 'response.failed']);

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
