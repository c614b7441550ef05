import {
  asyncScheduler,
  defer,
  retry,
  tap,
  throwError,
  timer,
  type MonoTypeOperatorFunction,
  type Observable,
  type SchedulerLike,
} from 'rxjs';
import { APIConnectionError, APIError, StreamTimeoutError } from '../errors.js';

/** What {@link RetryStreamConfig.onRetry} is told before each wait. */
export interface RetryInfo {
  /** 1 before the first retry, 2 before the second … */
  retryCount: number;
  error: unknown;
  /** How long the operator waits before subscribing again. */
  delayMs: number;
  /** `true` when values had already been delivered: a restart (`afterData: 'restart'`). */
  afterData: boolean;
}

export interface RetryStreamConfig {
  /** Retries after the first attempt; default 2. */
  count?: number;
  /** The backoff ceiling of the first retry, doubling for each one after it; default 500 ms. */
  initialDelayMs?: number;
  /** The largest backoff ceiling; default 8000 ms. */
  maxDelayMs?: number;
  /** A server's `retry-after` longer than this is cut to it; default 60 000 ms. */
  maxRetryAfterMs?: number;
  /** Which errors are worth another attempt; default {@link isRetryableError}. */
  retryable?: (error: unknown) => boolean;
  /**
   * What an error does once values have reached the subscriber. `'fail'`
   * (default): it passes through, so nothing is ever delivered twice.
   * `'restart'`: the source is subscribed again from the start; place the
   * operator after the one that accumulates (`accumulateChatCompletion()`,
   * `scan`), which then starts over too.
   */
  afterData?: 'fail' | 'restart';
  /** Called before each wait, e.g. to show "retrying…" or to clear a view on a restart. */
  onRetry?: (info: RetryInfo) => void;
  /** Schedules the waits; default `asyncScheduler` (virtual time under `TestScheduler.run`). */
  scheduler?: SchedulerLike;
}

const DEFAULT_RETRY_COUNT = 2;
const DEFAULT_INITIAL_DELAY_MS = 500;
const DEFAULT_MAX_DELAY_MS = 8000;
const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

/**
 * Subscribes again after a transient failure: a connection error, a timeout
 * waiting for the headers or the first event, or an `APIError` with status
 * 408, 409, 429 or 5xx — unless the response said `x-should-retry: false`
 * (and `x-should-retry: true` makes any status retryable). Waits the
 * `retry-after` the error carries (at most `maxRetryAfterMs`), else an
 * exponential backoff with full jitter.
 *
 * By default an error after the first value passes through: tokens are never
 * delivered twice. Comment frames of a raw SSE stream (keep-alives) do not
 * count as values. Unsubscribing during a wait cancels it; no request follows.
 *
 * @example
 * client.chat.completions
 *   .stream(params)
 *   .pipe(retryStream({ count: 3 }), contentDeltas())
 *   .subscribe(append);
 *
 * // Restart a broken stream from the beginning: the accumulated answer starts over.
 * client.chat.completions
 *   .stream(params)
 *   .pipe(accumulateChatCompletion(), retryStream({ afterData: 'restart', onRetry: showReconnecting }))
 *   .subscribe((snapshot) => render(snapshot.choices[0]?.message.content));
 */
export function retryStream<T>(config: RetryStreamConfig = {}): MonoTypeOperatorFunction<T> {
  const count = config.count ?? DEFAULT_RETRY_COUNT;
  const retryable = config.retryable ?? isRetryableError;
  const scheduler = config.scheduler ?? asyncScheduler;
  const delayFor = (error: unknown, retryCount: number) =>
    retryAfterOf(error, config.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS) ??
    backoffMs(retryCount, config.initialDelayMs ?? DEFAULT_INITIAL_DELAY_MS, config.maxDelayMs ?? DEFAULT_MAX_DELAY_MS);

  return (source: Observable<T>) =>
    defer(() => {
      let delivered = false;
      return defer(() => {
        delivered = false;
        return source;
      }).pipe(
        tap((value) => {
          if (!delivered && !isCommentFrame(value)) delivered = true;
        }),
        retry({
          count,
          delay: (error: unknown, retryCount) => {
            if (!retryable(error) || (delivered && config.afterData !== 'restart')) return throwError(() => error);
            const delayMs = delayFor(error, retryCount);
            config.onRetry?.({ retryCount, error, delayMs, afterData: delivered });
            return timer(delayMs, scheduler);
          },
        }),
      );
    });
}

/**
 * The default {@link RetryStreamConfig.retryable}: `APIConnectionError`;
 * `StreamTimeoutError` except the `total` budget (an `idle` stall can only
 * happen after data, so it matters only with `afterData: 'restart'`);
 * `APIError` as `x-should-retry` says, else for 408, 409, 429 and 5xx. Never
 * other 4xx, `StreamAbortError`, `StreamProtocolError` or `StreamTruncatedError`.
 *
 * @example
 * retryStream({ retryable: (error) => isRetryableError(error) || error instanceof StreamTruncatedError });
 */
export function isRetryableError(error: unknown): boolean {
  if (error instanceof APIConnectionError) return true;
  if (error instanceof StreamTimeoutError) return error.phase !== 'total';
  if (!(error instanceof APIError)) return false;
  const shouldRetry = error.headers['x-should-retry'];
  if (shouldRetry === 'true') return true;
  if (shouldRetry === 'false') return false;
  const status = error.status;
  return status === 408 || status === 409 || status === 429 || (status !== undefined && status >= 500 && status < 600);
}

function retryAfterOf(error: unknown, maxRetryAfterMs: number): number | undefined {
  if (!(error instanceof APIError) || error.retryAfterMs === undefined) return undefined;
  return Math.min(error.retryAfterMs, maxRetryAfterMs);
}

/** Full jitter: anywhere between 0 and the ceiling, which doubles with each retry up to `maxDelayMs`. */
function backoffMs(retryCount: number, initialDelayMs: number, maxDelayMs: number): number {
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** (retryCount - 1));
  return Math.round(Math.random() * ceiling);
}

/** A raw SSE comment (`{ type: 'comment' }`): a keep-alive, not content. */
function isCommentFrame(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'comment';
}
