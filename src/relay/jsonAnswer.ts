import { firstValueFrom, fromEvent } from 'rxjs';
import { APIConnectionError, OpenAIRxError } from '../errors.js';
import { apiErrorFromResponse } from '../sse/httpErrors.js';
import { readBytes, type BodyBytes } from '../sse/readText.js';
import { jsonDeadlines } from './jsonDeadlines.js';
import type { Recorder } from './recorder.js';
import { upstreamFailure } from './relayErrors.js';
import { forwardedResponseHeaders, JSON_CONTENT_TYPE } from './relayHeaders.js';
import type { RelayPlan } from './relayRequest.js';
import type { RelayRuntime } from './relayRuntime.js';
import type { RelayOutcome } from './types.js';
import type { TransportResponse } from '../transport/types.js';

/** An answer for the client: its status, headers (already redacted) and body. */
export interface JsonAnswer {
  kind: 'answer';
  status: number;
  headers: Record<string, string>;
  /** Text (the relay's own answers) or bytes (upstream's, unchanged). */
  body: string | Uint8Array;
  outcome: RelayOutcome;
  error?: unknown;
}

/** What a JSON request upstream came to: an answer to pass on, or an error for the relay to answer with. */
export type JsonResult = JsonAnswer | { kind: 'failed'; error: unknown };

/**
 * One JSON request upstream (a non-streaming completion, the model list, an
 * opt-in JSON route): the stream's deadlines apply (`headersMs`, `idleMs`
 * between chunks of the body, `totalMs`), the answer is read up to
 * `maxResponseBytes`. A 2xx passes on as upstream sent it: it is the model's
 * output, which redaction must not garble. Aborting `controller` (the client
 * left) ends the reading.
 */
export async function relayJson<Req>(
  relay: RelayRuntime<Req>,
  plan: Extract<RelayPlan, { kind: 'json' }>,
  controller: AbortController,
  recorder: Recorder<Req>,
): Promise<JsonResult> {
  const deadlines = jsonDeadlines(relay.options.timeout, controller, relay.scheduler);
  /** A failure of upstream's: a deadline that expired, else what `other` makes of it. */
  const upstreamFailed = (other: JsonResult): JsonResult => {
    const expired = deadlines.expired();
    return expired ? { kind: 'failed', error: expired } : other;
  };
  try {
    let response: TransportResponse;
    try {
      response = await firstValueFrom(relay.requestJson(plan.method, plan.path, plan.body, controller.signal));
    } catch (cause) {
      return upstreamFailed({ kind: 'failed', error: new APIConnectionError({ message: 'The upstream request failed', cause }) });
    }
    const aborted$ = fromEvent(controller.signal, 'abort');
    let read: BodyBytes;
    try {
      read = await firstValueFrom(readBytes(deadlines.responded(response.body), relay.maxResponseBytes, aborted$));
    } catch (cause) {
      // After the headers, the body broke (a reset, or fewer bytes than its content-length): no connection failure.
      return upstreamFailed(brokenBody(cause));
    }
    const { bytes, truncated } = read;
    const text = decoder.decode(bytes);
    recorder.context.requestId = relay.requestIdIn(response.headers);
    const expired = deadlines.expired();
    if (expired) return { kind: 'failed', error: expired };
    if (truncated) return tooLarge(relay.maxResponseBytes);
    if (response.status < 200 || response.status >= 300) {
      return { kind: 'failed', error: relay.redactError(apiErrorFromResponse(response.status, response.headers, text)) };
    }
    recorder.jsonBody(text);
    const headers = { ...redacted(relay, forwardedResponseHeaders(response.headers)), 'content-type': response.headers['content-type'] ?? JSON_CONTENT_TYPE };
    // The model's answer as upstream sent it, byte for byte.
    return { kind: 'answer', status: response.status, headers, body: bytes, outcome: 'completed' };
  } finally {
    deadlines.clear();
  }
}

const decoder = new TextDecoder();

function tooLarge(limit: number): JsonResult {
  const message = `The upstream response is larger than this relay's limit of ${limit} bytes.`;
  const failure = upstreamFailure(502, message, 'upstream_response_too_large');
  return { kind: 'answer', status: failure.status, headers: {}, body: JSON.stringify(failure.body), outcome: failure.outcome, error: new OpenAIRxError({ message }) };
}

function brokenBody(cause: unknown): JsonResult {
  const failure = upstreamFailure(502, 'The connection to the upstream API broke before the response ended.', 'upstream_connection_lost');
  const error = new APIConnectionError({ message: 'The upstream response broke off', cause });
  return { kind: 'answer', status: failure.status, headers: {}, body: JSON.stringify(failure.body), outcome: failure.outcome, error };
}

function redacted<Req>(relay: RelayRuntime<Req>, headers: Record<string, string>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const name in headers) result[name] = relay.redact(headers[name]);
  return result;
}
