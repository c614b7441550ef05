import { TimeoutError } from 'rxjs';
import { APIConnectionError, APIError, OutputValidationError, RefusalError, StreamNotFoundError, StreamTimeoutError } from '../../index.js';

export interface ErrorExplanation {
  /** For anyone: what happened, in a sentence. */
  message: string;
  /** For developers, in small print: the error's class and code or status, then its own message. */
  detail: string;
}

/** Error codes a resumable relay or this library's relay put into their error frames, in plain words. */
const RELAY_CODES: Record<string, string> = {
  upstream_connection_lost: "The connection to the model's server broke partway through the answer.",
  upstream_unreachable: "The relay could not reach the model's server.",
  upstream_timeout: "The model's server took too long to answer.",
  stream_cancelled: 'The answer was cancelled.',
  stream_abandoned: 'Nobody was reading the answer for too long, so the relay stopped it.',
  stream_lost: 'The relay generating this answer stopped responding.',
  rate_limit_exceeded: 'The provider is rate-limiting requests right now: try again in a moment.',
};

/**
 * A failed answer in words for the page: a friendly sentence, and the error's
 * class, status or code in small print.
 *
 * @example
 * explainError(new APIError({ status: 429, code: 'rate_limit_exceeded', message: '…' }));
 * // { message: 'The provider is rate-limiting requests right now: try again in a moment.', detail: 'APIError · HTTP 429 · rate_limit_exceeded · …' }
 */
export function explainError(error: unknown, limits: { silenceMs: number }): ErrorExplanation {
  const name = error instanceof Error ? error.name : 'Error';
  const text = error instanceof Error ? error.message : String(error);
  if (error instanceof TimeoutError) {
    return error.info?.seen
      ? {
          message: `The model went quiet for ${seconds(limits.silenceMs)}, so the page stopped waiting and cancelled the generation.`,
          detail: `${name} (rxjs timeout, ${seconds(limits.silenceMs)} without a frame)`,
        }
      : { message: 'No answer arrived in time, so the page gave up.', detail: `${name} (rxjs timeout before the first frame)` };
  }
  if (error instanceof StreamNotFoundError) {
    return { message: 'The answer is no longer on the relay: it expired, or the relay restarted.', detail: detailOf(error, text) };
  }
  if (error instanceof APIError) return { message: apiErrorMessage(error), detail: detailOf(error, text) };
  if (error instanceof APIConnectionError) return { message: 'The connection to the relay was lost.', detail: `${name} · ${text}` };
  if (error instanceof StreamTimeoutError) return { message: 'The server took too long to answer.', detail: `${name} · ${error.phase} · ${text}` };
  if (error instanceof OutputValidationError) return { message: 'The answer is not the JSON the schema asks for.', detail: `${name} · ${text}` };
  if (error instanceof RefusalError) return { message: 'The model refused to answer.', detail: `${name} · ${text}` };
  return { message: 'Something went wrong.', detail: `${name} · ${text}` };
}

function apiErrorMessage(error: APIError): string {
  const known = typeof error.code === 'string' ? RELAY_CODES[error.code] : undefined;
  if (known) return known;
  if (error.inStream) return "The model's server failed partway through the answer.";
  if (error.status === 429) return RELAY_CODES.rate_limit_exceeded;
  if (error.status === 401 || error.status === 403) return 'The provider refused the API key.';
  if (error.status !== undefined && error.status >= 500) return "The model's server had a problem: try again.";
  return 'The provider refused the request.';
}

function detailOf(error: APIError, text: string): string {
  const where = error.inStream ? 'in the stream' : error.status === undefined ? undefined : `HTTP ${error.status}`;
  return [error.name, where, error.code ?? undefined, text].filter((part) => part !== undefined && part !== '').join(' · ');
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
