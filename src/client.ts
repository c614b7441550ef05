import { defer, identity, pipe, throwError, type Observable, type Observer, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { InvalidRequestError } from './errors.js';
import { chatChunks } from './openai/chatChunks.js';
import type { ChatCompletionChunk, ChatCompletionCreateParams } from './openai/chatTypes.js';
import { completionChunks } from './openai/completionChunks.js';
import type { CompletionChunk, CompletionCreateParams } from './openai/completionTypes.js';
import { responseEvents } from './openai/responseEvents.js';
import type { ResponseCreateParams, ResponseStreamEvent } from './openai/responseTypes.js';
import { sseFrames } from './sse/sseFrames.js';
import type { ResponseHead, SseFrame, SseRequest, StreamTimeouts } from './sse/types.js';
import { redactErrors } from './redactErrors.js';
import { createRedactor, credentialsIn } from './redaction.js';
import { sendStreamCancel } from './resume/clientCancelStream.js';
import { resumable, type ResumeOption, type ResumePlan } from './resume/clientResumable.js';
import { observeOperation } from './telemetry/observeOperation.js';
import type { Telemetry, TelemetryEndpoint } from './telemetry/types.js';
import type { Transport } from './transport/types.js';

export interface ClientOptions {
  /** Sent as `Authorization: Bearer …`. Optional: a browser talking to a relay has none. */
  apiKey?: string;
  /** Default `https://api.openai.com/v1`. */
  baseURL?: string;
  /** How requests are sent; the entry point picks undici on Node and `fetch` elsewhere. */
  transport?: Transport;
  /** Sent with every request (e.g. `api-key` for Azure, `HTTP-Referer` for OpenRouter). */
  headers?: Record<string, string>;
  /** Default timeouts for every request; per-request `timeout` fields override them one by one. */
  timeout?: StreamTimeouts;
  /** Largest SSE event in characters. */
  maxEventSize?: number;
  /** Runs every timeout; default `asyncScheduler` (which `TestScheduler.run` puts in virtual time). */
  scheduler?: SchedulerLike;
  /**
   * Records every request of `events()` and `stream()`, e.g. `openTelemetry()`: spans and GenAI metrics.
   * Opt-in per client: without it nothing is recorded, even when the app registered an OpenTelemetry SDK.
   */
  telemetry?: Telemetry;
}

export interface RequestOptions {
  /** Aborting it ends the stream with `StreamAbortError`. */
  signal?: AbortSignal;
  headers?: Record<string, string>;
  timeout?: StreamTimeouts;
  maxEventSize?: number;
  /**
   * Receives the response head (status, headers, request id, a resumable relay's stream id) once per request,
   * before the first frame: a function, or an observer such as a `Subject` or `ReplaySubject` to read it as a value.
   *
   * @example
   * const head = new ReplaySubject<ResponseHead>(1);
   * client.chat.completions.stream(params, { head }).subscribe(render);
   * head.subscribe(({ requestId }) => console.log('request', requestId));
   */
  head?: ((head: ResponseHead) => void) | Partial<Observer<ResponseHead>>;
  /**
   * For a relay in resume mode (`createRelay({ resume: true })`): a connection that breaks mid-stream is
   * re-attached (`GET …/streams/{id}` with `Last-Event-ID`) and the stream goes on, each frame once; unsubscribing
   * (or `signal`) also sends `POST …/streams/{id}/cancel`, which stops the generation on the relay. A server that
   * sends no `x-stream-id` is read as without it. `head` is called once, with the first response's head.
   *
   * @example
   * client.chat.completions.stream(params, { resume: { attempts: 3 } }).pipe(accumulateChatCompletion()).subscribe(render);
   */
  resume?: ResumeOption;
}

/** {@link OpenAIRxClient.resumeStream}'s options: the request options, and where to pick the stream up. */
export interface ResumeStreamOptions extends RequestOptions {
  /** The last event id (`SseEventFrame.id`) the app has seen; the frames after it follow. Default 0: from the start. */
  after?: number;
}

/**
 * One streaming endpoint. `params` is checked against `Params` exactly, so a
 * misspelt field is a compile error. A provider's own fields are sent by
 * naming them in the type argument, which keeps the check on every other field:
 *
 * @example
 * client.chat.completions.stream<ChatCompletionCreateParams & { guided_json?: object }>({ model, messages, guided_json: schema });
 */
export interface StreamEndpoint<Params, Event> {
  /** The raw SSE frames of the streamed response, cold. `stream: true` is set on the body. */
  events<P extends Params = Params>(params: NoInfer<P>, options?: RequestOptions): Observable<SseFrame>;
  /** The parsed, validated events: `events(...)` piped through the endpoint's operator. */
  stream<P extends Params = Params>(params: NoInfer<P>, options?: RequestOptions): Observable<Event>;
}

export interface OpenAIRxClient {
  readonly baseURL: string;
  chat: { completions: StreamEndpoint<ChatCompletionCreateParams, ChatCompletionChunk> };
  /** The legacy `/completions` endpoint. */
  completions: StreamEndpoint<CompletionCreateParams, CompletionChunk>;
  /** The Responses API, `/responses`: `stream()` emits typed {@link ResponseStreamEvent}s. */
  responses: StreamEndpoint<ResponseCreateParams, ResponseStreamEvent>;
  /** Raw frames from any other SSE endpoint: POSTs `body` as JSON to `baseURL + path`. */
  sse(path: string, body: unknown, options?: RequestOptions): Observable<SseFrame>;
  /**
   * Re-attaches to a stream of a relay in resume mode, e.g. after a page reload: the frames after `after`, then
   * the live ones, to the stream's end. Breaks are re-attached as with `resume: true` (`resume: false` does not),
   * and unsubscribing cancels the generation unless `resume: { cancelOnUnsubscribe: false }`. A stream the relay
   * does not know (wrong id, expired) fails with `StreamNotFoundError`.
   *
   * @example
   * const id = sessionStorage.getItem('streamId');
   * if (id) client.resumeStream(id).pipe(chatChunks(), accumulateChatCompletion()).subscribe(render);
   */
  resumeStream(streamId: string, options?: ResumeStreamOptions): Observable<SseFrame>;
}

export const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/**
 * `baseURL` joined with an endpoint `path`. A query string on `baseURL` (Azure's
 * `?api-version=…` on a deployment URL) goes after the path, together with any
 * query string of the path itself.
 *
 * @example
 * endpointURL('https://r.openai.azure.com/openai/deployments/gpt-4o?api-version=2024-10-21', '/chat/completions')
 * // 'https://r.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21'
 */
export function endpointURL(baseURL: string, path: string): string {
  const [base, baseQuery] = splitQuery(baseURL);
  const [route, routeQuery] = splitQuery(path);
  const query = [baseQuery, routeQuery].filter(Boolean).join('&');
  return `${base.replace(/\/+$/, '')}/${route.replace(/^\/+/, '')}${query ? `?${query}` : ''}`;
}

function splitQuery(url: string): [string, string] {
  const at = url.indexOf('?');
  return at === -1 ? [url, ''] : [url.slice(0, at), url.slice(at + 1)];
}

/** What every request of one client shares, resolved once from its options. */
export interface ClientConfig {
  baseURL: string;
  transport: Transport;
  headers: Record<string, string>;
  timeout: StreamTimeouts | undefined;
  maxEventSize: number | undefined;
  scheduler: SchedulerLike | undefined;
}

export function clientConfig(options: ClientOptions & { transport: Transport }): ClientConfig {
  return {
    baseURL: options.baseURL ?? DEFAULT_BASE_URL,
    transport: options.transport,
    headers: requestHeaders(options, 'text/event-stream'),
    timeout: options.timeout,
    maxEventSize: options.maxEventSize,
    scheduler: options.scheduler,
  };
}

/**
 * The request that POSTs `body` as JSON to `path`. Call it when the request is
 * to be sent (inside `defer`): a body that cannot be serialized (a cycle, a
 * BigInt, nesting too deep) is an `InvalidRequestError` then, not a throw at
 * the time the Observable was made.
 */
export function sseRequest(config: ClientConfig, path: string, body: unknown, request: RequestOptions = {}): SseRequest {
  return streamRequest(config, request, endpointURL(config.baseURL, path), 'POST', mergedHeaders(config, request), serialize(body));
}

/** The `GET {baseURL}/streams/{id}` that re-attaches to a resumable stream after event `after`. */
function reattachRequest(config: ClientConfig, streamId: string, after: number, request: RequestOptions): SseRequest {
  const headers = { ...bodilessHeaders(mergedHeaders(config, request)), 'last-event-id': String(after) };
  return streamRequest(config, request, streamURL(config, streamId, ''), 'GET', headers, undefined);
}

/**
 * One stream request of `request`. Written as one literal: a spread followed by more keys gives every request
 * a hidden class of its own (~0.3 KB each, kept as long as the stream is open).
 */
function streamRequest(
  config: ClientConfig,
  request: RequestOptions,
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
): SseRequest {
  return {
    transport: config.transport,
    url,
    method,
    headers,
    body,
    signal: request.signal,
    timeout: request.timeout ? { ...config.timeout, ...request.timeout } : config.timeout,
    maxEventSize: request.maxEventSize ?? config.maxEventSize,
    scheduler: config.scheduler,
    head: headCallback(request.head),
  };
}

function mergedHeaders(config: ClientConfig, request: RequestOptions): Record<string, string> {
  return request.headers ? { ...config.headers, ...request.headers } : config.headers;
}

/** The headers without a `content-type`: the request has no body. */
function bodilessHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'content-type'));
}

function streamURL(config: ClientConfig, streamId: string, action: '' | '/cancel'): string {
  return endpointURL(config.baseURL, `/streams/${encodeURIComponent(streamId)}${action}`);
}

function serialize(body: unknown): string {
  try {
    return JSON.stringify(body);
  } catch (cause) {
    const reason = cause instanceof Error ? `: ${cause.message}` : '';
    throw new InvalidRequestError({ message: `The request body cannot be sent as JSON${reason}`, cause });
  }
}

function headCallback(head: RequestOptions['head']): ((head: ResponseHead) => void) | undefined {
  if (typeof head === 'function' || head === undefined) return head;
  return (value) => head.next?.(value);
}

/** Where a stream starts: for a known stream its id and the last event seen. */
type StreamStart = Pick<ResumePlan, 'streamId' | 'after'>;

/**
 * What a resumable stream of `request` does after its first request. Made outside the client's closures: it lives
 * as long as the stream, and must not keep the first request's maker, which holds the caller's params.
 */
function resumePlan(config: ClientConfig, start: StreamStart, request: RequestOptions): ResumePlan {
  return {
    ...start,
    reattach: (streamId, after) => reattachRequest(config, streamId, after, request),
    cancel: (streamId) =>
      sendStreamCancel({
        transport: config.transport,
        url: streamURL(config, streamId, '/cancel'),
        headers: { ...bodilessHeaders(mergedHeaders(config, request)), accept: 'application/json' },
        scheduler: config.scheduler,
      }),
  };
}

/** The client without a default transport; each entry point supplies its own. */
export function buildClient(options: ClientOptions & { transport: Transport }): OpenAIRxClient {
  const config = clientConfig(options);
  // One for every call without headers of its own: each stream would otherwise keep a copy while it is open.
  const clientRedactor = createRedactor(credentialsIn(config.headers));
  /** The frames of one call through `pipeline`, re-attached when `resume` says so; errors redacted of the request's credentials. */
  const open = <T>(
    first: () => SseRequest,
    start: StreamStart,
    request: RequestOptions,
    resume: ResumeOption | undefined,
    pipeline: OperatorFunction<SseFrame, T>,
  ): Observable<T> => {
    const redactor = request.headers ? createRedactor(credentialsIn(mergedHeaders(config, request))) : clientRedactor;
    const answer$ = resume
      ? resumable(first, resumePlan(config, start, request), resume === true ? {} : resume, pipeline)
      : defer(() => sseFrames(first())).pipe(pipeline);
    // Redacted after parsing: an in-stream error event may echo the key. Without credentials (a browser behind the
    // relay) there is nothing to redact, and no stage: each one is a hop for every event.
    return redactor.active ? answer$.pipe(redactErrors(redactor)) : answer$;
  };
  // The body is read at subscribe: what a retry or a later subscription sends is the params as they are then.
  const post = <T>(path: string, body: () => unknown, request: RequestOptions = {}, pipeline: OperatorFunction<SseFrame, T>): Observable<T> => {
    const first = () => {
      assertSendable(options.apiKey, config.baseURL, mergedHeaders(config, request));
      return sseRequest(config, path, body(), request);
    };
    return open(first, { after: 0 }, request, request.resume, pipeline);
  };
  const endpoint = <Params extends object, Event>(
    route: TelemetryEndpoint,
    // One parser serves every call: it keeps its state per subscription (and no open stream keeps a copy of it).
    parser: OperatorFunction<SseFrame, Event>,
  ): StreamEndpoint<Params, Event> => {
    const request$ = <T>(params: Params, request: RequestOptions | undefined, pipeline: OperatorFunction<SseFrame, T>) =>
      observeOperation(
        options.telemetry,
        () => ({ endpoint: route, model: (params as { model?: string }).model, url: config.baseURL }),
        (readFrames) => post(`/${route}`, () => ({ ...params, stream: true }), request, pipe(readFrames, pipeline)),
      );
    return {
      events: (params, request) => request$(params, request, identity),
      stream: (params, request) => request$(params, request, parser),
    };
  };

  return {
    baseURL: config.baseURL,
    chat: { completions: endpoint('chat/completions', chatChunks()) },
    completions: endpoint('completions', completionChunks()),
    responses: endpoint('responses', responseEvents()),
    sse: (path, body, request) => post(path, () => body, request, identity),
    resumeStream: (streamId, { after = 0, resume = true, ...request } = {}) => {
      if (!Number.isSafeInteger(after) || after < 0) {
        return throwError(() => new InvalidRequestError({ message: `resumeStream: 'after' must be an event id (an integer from 0), got ${String(after)}` }));
      }
      // `resume: false` here means one attempt: the stream is still a resumable one, cancelled when left.
      const first = () => reattachRequest(config, streamId, after, request);
      return open(first, { streamId, after }, request, resume || { attempts: 0 }, identity);
    },
  };
}

/** OpenAI's own API, which answers every request without a key with a 401. */
const OPENAI_API = /^https:\/\/api\.openai\.com(?:[/:?#]|$)/i;

/**
 * Throws the `InvalidRequestError` of a request that cannot go out as configured, before anything is sent:
 * a key with a line break (read from a file with its newline), which no header can carry, or OpenAI's own
 * API without a key. The key is never quoted.
 */
function assertSendable(apiKey: string | undefined, baseURL: string, headers: Record<string, string>): void {
  if (apiKey && /[\r\n]/.test(apiKey)) {
    throw new InvalidRequestError({ message: "The API key (apiKey) contains a line break, so the 'authorization' header cannot be sent" });
  }
  if (OPENAI_API.test(baseURL) && credentialsIn(headers).length === 0) {
    throw new InvalidRequestError({ message: `No API key for ${baseURL}: set apiKey (on Node OPENAI_API_KEY) or an 'authorization' header` });
  }
}

/** The headers of every request a client sends: a JSON body, `accept`, `options.headers`, then `apiKey` as a bearer token. */
export function requestHeaders(options: Pick<ClientOptions, 'apiKey' | 'headers'>, accept: string): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept, ...options.headers };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  return headers;
}
