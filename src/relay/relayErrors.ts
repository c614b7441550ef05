import { APIConnectionError, APIError, OpenAIRxError, StreamProtocolError, StreamTimeoutError, StreamTruncatedError } from '../errors.js';
import { isRecord, isUnfollowedRedirect, readErrorBody, readErrorObject } from '../sse/httpErrors.js';
import { forwardedResponseHeaders } from './relayHeaders.js';
import type { RelayOutcome } from './types.js';

/** OpenAI's error body: what every error answer of the relay looks like. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | number | null };
}

export function openAIErrorBody(
  message: string,
  type: string,
  code: string | number | null = null,
  param: string | null = null,
): OpenAIErrorBody {
  return { error: { message, type, param, code } };
}

export interface RelayRejectionInit {
  /** The HTTP status of the answer. */
  status: number;
  message: string;
  /** Default `invalid_request_error`. */
  type?: string;
  code?: string | null;
  param?: string | null;
  /** Extra response headers, e.g. `allow` for a 405. */
  headers?: Record<string, string>;
}

/**
 * A request the relay answers by itself, without contacting upstream. The relay
 * raises it for its own checks; `allowModels` and `transformRequest` may throw
 * one to answer with their own status and message.
 *
 * @example
 * transformRequest(body) {
 *   if (Number(body.max_tokens) > 4096) throw new RelayRejection({ status: 400, message: 'max_tokens is at most 4096', param: 'max_tokens' });
 *   return { ...body, user: 'team-a' };
 * }
 */
export class RelayRejection extends OpenAIRxError {
  override name = 'RelayRejection';
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  readonly headers: Record<string, string>;

  constructor(init: RelayRejectionInit) {
    super(init);
    this.status = init.status;
    this.type = init.type ?? 'invalid_request_error';
    this.code = init.code ?? null;
    this.param = init.param ?? null;
    this.headers = init.headers ?? {};
  }
}

/** How an error reaches the client: the status and headers before the stream started, the body either way. */
export interface RelayErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  outcome: RelayOutcome;
  /** A failure nobody planned for (a bug, a store or transport that broke): the relay reports it to `onError`. */
  unexpected?: true;
}

/** How far the request had got when it failed. */
export interface RelayProgress {
  /** The request was on its way upstream: it had passed the relay's checks and hooks. */
  upstreamStarted: boolean;
  /** The client's response had started (status and headers sent). */
  streamStarted: boolean;
}

/**
 * Maps what ended a request to its answer. Upstream's own error bodies pass
 * through with their status and headers (retry-after, request id, rate
 * limits); the relay's messages for connection failures and timeouts name no
 * host, so internal addresses stay internal.
 */
export function relayErrorResponse(error: unknown, { upstreamStarted, streamStarted }: RelayProgress): RelayErrorResponse {
  if (error instanceof RelayRejection) {
    return {
      status: error.status,
      headers: error.headers,
      body: openAIErrorBody(error.message, error.type, error.code, error.param),
      outcome: 'rejected',
    };
  }
  if (error instanceof APIError) {
    // A 2xx whose body is an error (a JSON error where the event stream should be) is no success to relay, and a
    // 3xx (never followed) is no answer to relay.
    const isErrorStatus = error.status !== undefined && error.status >= 400;
    return {
      status: isErrorStatus ? error.status : 502,
      headers: forwardedResponseHeaders(error.headers),
      body: upstreamErrorBody(error, isErrorStatus),
      outcome: 'upstream-error',
    };
  }
  if (error instanceof StreamTimeoutError) {
    return upstreamFailure(
      504,
      `The upstream API did not answer in time (${error.phase} timeout of ${error.timeoutMs} ms).`,
      'upstream_timeout',
      'timeout',
    );
  }
  if (error instanceof APIConnectionError) {
    return streamStarted
      ? upstreamFailure(502, 'The connection to the upstream API broke before the stream ended.', 'upstream_connection_lost')
      : upstreamFailure(502, 'The relay could not connect to the upstream API.', 'upstream_unreachable');
  }
  if (error instanceof StreamProtocolError) {
    return upstreamFailure(502, 'The upstream API sent a response the relay cannot relay.', 'upstream_protocol_error');
  }
  if (error instanceof StreamTruncatedError) {
    return upstreamFailure(502, 'The upstream API ended the stream in the middle of an event.', 'upstream_stream_truncated', 'truncated');
  }
  return {
    status: 500,
    headers: {},
    body: openAIErrorBody('The relay failed to handle the request.', 'server_error', 'relay_error'),
    // Before the request set out upstream, a failing hook (transformRequest) is the deployment refusing it; after,
    // the relay itself failed, whether or not the client's response had started.
    outcome: upstreamStarted ? 'relay-error' : 'rejected',
    unexpected: true,
  };
}

/**
 * Upstream's own error body when it is an OpenAI-shaped error sent with an error status; else its message in
 * OpenAI's format. A body without one (a proxy's HTML page) is not quoted: it may name internal hosts; nor is
 * a redirect's target. The error itself, excerpt included, still reaches `onSettled`.
 */
function upstreamErrorBody(error: APIError, verbatim: boolean): unknown {
  if (error.status !== undefined && isUnfollowedRedirect(error.status, error.body)) {
    const answered = error.status ? `${error.status} (a redirect)` : 'with a redirect';
    return openAIErrorBody(`The upstream server answered ${answered}, which the relay does not follow.`, 'upstream_error', 'upstream_redirect');
  }
  if (verbatim && isRecord(error.body) && readErrorObject(error.body)) return error.body;
  const read = readErrorBody(error.body);
  if (read) return openAIErrorBody(read.message, read.type ?? 'upstream_error', read.code ?? null, read.param ?? null);
  const what = typeof error.body === 'string' && error.body.trim() !== '' ? 'with a non-JSON body' : 'without an error message';
  return openAIErrorBody(`The upstream server answered ${error.status} ${what}.`, 'upstream_error');
}

export function upstreamFailure(
  status: number,
  message: string,
  code: string,
  outcome: RelayOutcome = 'upstream-error',
): RelayErrorResponse {
  return { status, headers: {}, body: openAIErrorBody(message, 'server_error', code), outcome };
}

const encoder = new TextEncoder();

/** The relay's own event carrying an error body (already JSON text), as the last frame of a stream. */
export function errorFrame(json: string): Uint8Array {
  return encoder.encode(`data: ${json}\n\n`);
}
