import { asyncScheduler, from, type SchedulerLike } from 'rxjs';
import { readText } from '../sse/readText.js';
import { scheduleUnref } from '../scheduleUnref.js';
import type { Transport, TransportResponse } from '../transport/types.js';

/** What {@link sendStreamCancel} sends. */
export interface StreamCancelRequest {
  transport: Transport;
  /** `{baseURL}/streams/{id}/cancel`. */
  url: string;
  /** The client's headers, credentials included: the relay checks who may cancel. */
  headers: Record<string, string>;
  /** Runs the time limit; default `asyncScheduler`. */
  scheduler?: SchedulerLike;
}

/** How long a cancel may take before its request is dropped: a relay that does not answer must not hold a socket. */
export const CANCEL_TIMEOUT_MS = 10_000;

/** The answer is a small JSON object; reading it (up to this much) lets its connection be reused. */
const ANSWER_LIMIT_BYTES = 4096;

/**
 * Sends `POST …/streams/{id}/cancel` and forgets it: with `keepalive`, so that
 * fetch delivers it while the page unloads. Whatever happens (a transport that
 * throws, a refused connection, a 404 for a stream that already ended) is
 * swallowed here: a cancel is a courtesy to the relay, and the caller has
 * already left.
 *
 * @example
 * sendStreamCancel({ transport, url: endpointURL(baseURL, `/streams/${id}/cancel`), headers });
 */
export function sendStreamCancel(request: StreamCancelRequest): void {
  const controller = new AbortController();
  const scheduler = request.scheduler ?? asyncScheduler;
  const limit = scheduleUnref(scheduler, () => controller.abort(), CANCEL_TIMEOUT_MS);
  const done = () => limit.unsubscribe();
  try {
    from(request.transport({ url: request.url, method: 'POST', headers: request.headers, signal: controller.signal, keepalive: true })).subscribe({
      next: (response) => discard(response, done),
      error: done,
    });
  } catch {
    done();
  }
}

function discard(response: TransportResponse, done: () => void): void {
  readText(response.body, ANSWER_LIMIT_BYTES).subscribe({ complete: done, error: done });
}
