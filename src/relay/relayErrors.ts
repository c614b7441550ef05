import { APIConnectionError, APIError, OpenAIRxError, StreamProtocolError, StreamTimeoutError } from '../errors.js';
import { isRecord, readErrorObject } from '../sse/httpErrors.js';
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
 *   if (Number(body.max_tokens) > 4096) throw new RelayRejection(400, 'max_tokens is at most 4096', { param: 'max_tokens' });
 *   return { ...body, user: 'team-a' };
 * }
 */
export class RelayRejection extends OpenAIRxError {
  override name = 'RelayRejection';
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  readonly headers: Record<string, string>;

  constructor(
    readonly status: number,
    message: string,
    init: RelayRejectionInit = {},
  ) {
    super(message);
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
}

/**
 * Maps what ended a request to its answer. Upstream's own error bodies pass
 * through with their status and headers (retry-after, request id, rate
 * limits); the relay's messages for connection failures and timeouts name no
 * host, so internal addresses stay internal.
 */
export function relayErrorResponse(error: unknown, streamStarted: boolean): RelayErrorResponse {
  if (error instanceof RelayRejection) {
    return {
      status: error.status,
      headers: error.headers,
      body: openAIErrorBody(error.message, error.type, error.code, error.param),
      outcome: 'rejected',
    };
  }
  if (error instanceof APIError) {
    const body =
      isRecord(error.body) && readErrorObject(error.body)
        ? error.body
        : openAIErrorBody(error.message, error.type ?? 'upstream_error', error.code ?? null, error.param ?? null);
    return {
      status: error.status ?? 502,
      headers: forwardedResponseHeaders(error.headers),
      body,
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
  return {
    status: 500,
    headers: {},
    body: openAIErrorBody('The relay failed to handle the request.', 'server_error', 'relay_error'),
    outcome: 'rejected',
  };
}

export function upstreamFailure(
  status: number,
  message: string,
  code: string,
  outcome: RelayOutcome = 'upstream-error',
): RelayErrorResponse {
  return { status, headers: {}, body: openAIErrorBody(message, 'server_error', code), outcome };
}
