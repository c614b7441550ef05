import { asyncScheduler, defer, from, type Observable, type SchedulerLike } from 'rxjs';
import { clientConfig, endpointURL, requestHeaders, sseRequest } from '../client.js';
import { OpenAIRxError } from '../errors.js';
import { redactErrors } from '../redactErrors.js';
import { createRedactor, credentialsIn } from '../redaction.js';
import { requestIdOf } from '../sse/httpErrors.js';
import type { ResponseHead } from '../sse/types.js';
import type { Transport, TransportResponse } from '../transport/types.js';
import { corsPolicy, type CorsPolicy } from './cors.js';
import { normalizePrefix, routeTable, type RouteSpec } from './relayRoutes.js';
import { resumeRuntime, type ResumeRuntime } from './resumeMode.js';
import { upstreamBlocks, type UpstreamRead } from './upstreamBlocks.js';
import type { RelayContext, RelayOptions } from './types.js';

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
const DEFAULT_HEARTBEAT_MS = 15_000;
const DEFAULT_STALLED_CLIENT_MS = 60_000;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Everything one relay shares between its requests, built once from its options. */
export interface RelayRuntime<Req> {
  options: RelayOptions<Req>;
  prefix: string;
  /** The upstream's base URL (what telemetry names as the server). */
  baseURL: string;
  routes: readonly RouteSpec[];
  /** The `cors` option as a policy; `undefined` when CORS is off. */
  cors: CorsPolicy<Req> | undefined;
  /** Resume mode; `undefined` when off. */
  resume: ResumeRuntime<Req> | undefined;
  maxBodyBytes: number;
  maxResponseBytes: number;
  heartbeatMs: number;
  /** 0: off. */
  stalledClientMs: number;
  /** Runs every timer of the relay (heartbeats, stalls, deadlines) and reads its clock. */
  scheduler: SchedulerLike;
  /** A streaming request upstream: its blocks as they arrive, read only while `pause$` last said `false`. */
  streamUpstream(path: string, body: unknown, head: (head: ResponseHead) => void, pause$: Observable<boolean>): Observable<UpstreamRead>;
  /** A JSON request upstream (GET without a body, POST with one); the answer is read by the caller. */
  requestJson(method: 'GET' | 'POST', path: string, body: unknown, signal: AbortSignal): Observable<TransportResponse>;
  /** Removes the credentials the relay sends upstream (`apiKey`, an `api-key` header, …) from text about to reach the client. */
  redact(text: string): string;
  /** {@link RelayRuntime.redact} for bytes: the same bytes when they hold no credential. */
  redactBytes(bytes: Uint8Array): Uint8Array;
  /** Upstream's request id, redacted: a server that echoes credentials may put one there. */
  requestIdIn(headers: Record<string, string>): string | undefined;
  /** Removes those credentials from an error about to be reported (in place; servers echo keys in error bodies). */
  redactError<E>(error: E): E;
  /** Hands an error to `onError` (default `console.error`); never throws. Without a request there is no context. */
  report(error: unknown, context?: RelayContext<Req>): void;
  /** Calls a hook; an exception goes to {@link RelayRuntime.report} and never reaches the response. */
  guard(context: RelayContext<Req>, hook: () => void): void;
}

export function buildRelayRuntime<Req>(options: RelayOptions<Req> & { transport: Transport }): RelayRuntime<Req> {
  const { transport } = options;
  const maxBodyBytes = limit('maxBodyBytes', options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES);
  const maxResponseBytes = limit('maxResponseBytes', options.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES);
  const heartbeatMs = offOrPositive('heartbeatMs', options.heartbeatMs, DEFAULT_HEARTBEAT_MS);
  const stalledClientMs = offOrPositive('stalledClientMs', options.stalledClientMs, DEFAULT_STALLED_CLIENT_MS);
  const config = clientConfig(options);
  const resume = resumeRuntime<Req>(options.resume, options.scheduler ?? asyncScheduler);
  const jsonHeaders = requestHeaders(options, 'application/json');
  // A GET carries no body, so no content-type.
  const { 'content-type': _none, ...getHeaders } = jsonHeaders;
  const redactor = createRedactor(credentialsIn(jsonHeaders));

  const report = (error: unknown, context?: RelayContext<Req>) => {
    try {
      if (options.onError) options.onError(error, context);
      else console.error('[openai-rx relay]', error);
    } catch {
      // onError itself failed; there is nowhere left to report to, and the response must go on.
    }
  };

  return {
    options,
    prefix: normalizePrefix(options.prefix ?? '/v1'),
    baseURL: config.baseURL,
    routes: routeTable(options.routes, resume !== undefined),
    resume,
    cors: corsPolicy(options.cors, report),
    maxBodyBytes,
    maxResponseBytes,
    heartbeatMs,
    stalledClientMs,
    scheduler: options.scheduler ?? asyncScheduler,
    streamUpstream: (path, body, head, pause$) =>
      defer(() => upstreamBlocks(sseRequest(config, path, body, { head }), pause$)).pipe(redactErrors(redactor)),
    requestJson: (method, path, body, signal) =>
      defer(() =>
        from(
          transport({
            url: endpointURL(config.baseURL, path),
            method,
            headers: method === 'GET' ? getHeaders : jsonHeaders,
            body: body === undefined ? undefined : JSON.stringify(body),
            signal,
          }),
        ),
      ),
    report,
    redactError: redactor.error,
    redact: redactor.text,
    requestIdIn(headers) {
      const id = requestIdOf(headers);
      return id === undefined ? undefined : redactor.text(id);
    },
    redactBytes(bytes) {
      if (!redactor.active) return bytes;
      const text = decoder.decode(bytes);
      const redacted = redactor.text(text);
      return redacted === text ? bytes : encoder.encode(redacted);
    },
    guard(context, hook) {
      try {
        hook();
      } catch (error) {
        report(error, context);
      }
    },
  };
}

function limit(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw new OpenAIRxError({ message: `${name} must be a positive integer, not ${value}` });
  return value;
}

function offOrPositive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value >= 0)) throw new OpenAIRxError({ message: `${name} must be 0 (off) or a positive number, not ${value}` });
  return value;
}
