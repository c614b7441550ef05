import type { ClientOptions } from '../client.js';
import type { SseFrame } from '../sse/types.js';
import type { RelayCorsOption } from './cors.js';
import type { Telemetry } from '../telemetry/types.js';
import type { ResumeStore } from '../resume/types.js';

/**
 * The routes a relay serves, as paths below its `prefix` and below the upstream `baseURL`: the generation routes
 * (streamed or JSON), the read-only model routes, and the JSON routes a deployment adds (`routes.json`).
 */
export type RelayRoute = 'chat/completions' | 'completions' | 'responses' | 'models' | 'models/{model}' | (string & {});

/** Which routes beyond the generation routes a relay serves. */
export interface RelayRoutesOption {
  /** `GET {prefix}/models` and `GET {prefix}/models/{model}`, relayed as JSON; default `true` (SDKs list models on start-up). */
  models?: boolean;
  /** JSON POST routes to relay as well, e.g. `['embeddings', 'moderations']`; each answer is bounded like any JSON answer. */
  json?: readonly string[];
}

/**
 * How a relayed request ended:
 * - `completed`: upstream's answer reached the client in full;
 * - `client-closed`: the client left first (the upstream request was aborted);
 * - `client-stalled`: the client took no bytes for `stalledClientMs`; the relay dropped it and aborted upstream;
 * - `upstream-error`: upstream answered with an error (status, in-stream error event) or broke the connection;
 * - `truncated`: upstream's stream ended in the middle of an event;
 * - `timeout`: one of the `timeout` limits fired;
 * - `rejected`: the relay answered by itself without contacting upstream (404, 405, 413, 400, 403, a hook's rejection);
 * - `preflight`: a CORS preflight the relay answered (no upstream request);
 * - `cancelled`: resume mode: the generation was stopped by a cancel request;
 * - `abandoned`: resume mode: nobody read the generation for `abandonAfterMs`, so it was stopped;
 * - `relay-error`: the relay itself failed after contacting upstream (reported to `onError`).
 */
export type RelayOutcome =
  | 'completed'
  | 'client-closed'
  | 'client-stalled'
  | 'upstream-error'
  | 'truncated'
  | 'timeout'
  | 'rejected'
  | 'preflight'
  | 'cancelled'
  | 'abandoned'
  | 'relay-error';

/** The request body after the checks: a JSON object with a `model`; every other field is kept as sent. */
export interface RelayRequestBody {
  model: string;
  [field: string]: unknown;
}

/** What the hooks learn about the request being relayed; fields fill in as the relay gets to know them. */
export interface RelayContext<Req> {
  /** The incoming request: `IncomingMessage` for `createRelay`, `Request` for `createFetchRelay`. */
  request: Req;
  /** `undefined` when the path matched no route. */
  route: RelayRoute | undefined;
  /** The model sent upstream (after `transformRequest`). */
  model: string | undefined;
  /** Whether the request asked for an event stream (`stream: true`). */
  stream: boolean;
  /** Upstream's `x-request-id`, once its response headers arrived. */
  requestId: string | undefined;
}

/** Reported once per request to `onSettled`. `request` is not enumerable, so `JSON.stringify(summary)` is a log line. */
export interface RelaySummary<Req> extends RelayContext<Req> {
  outcome: RelayOutcome;
  /** The status sent to the client; 499 when it left before any response was sent. */
  status: number;
  durationMs: number;
  /** From the request's arrival to the first byte of the response body written to the client. */
  timeToFirstByteMs: number | undefined;
  /** Upstream frames relayed (events and comments; the relay's own heartbeats are not counted). */
  frames: number;
  /** Response body bytes written to the client, heartbeats and error frames included. */
  bytes: number;
  /** The last `usage` object upstream sent (chat's final chunk, Responses' `response.completed`, a JSON body). */
  usage: Record<string, unknown> | undefined;
  /** What ended the request when the outcome is not `completed`; never holds the API key. */
  error: Error | undefined;
}

/** Resume mode's settings; every one has a default. */
export interface RelayResumeOptions<Req> {
  /** Where generations are kept: `memoryResumeStore()` (one process, the default) or `redisResumeStore()` (shared). */
  store?: ResumeStore;
  /**
   * A generation nobody reads for this long is aborted upstream: tokens a closed tab would go on paying for, traded
   * against an answer kept for a reload or a network switch. Default 30 000.
   */
  abandonAfterMs?: number;
  /** How long a finished stream stays readable, for the default memory store; a store given keeps its own. Default 300 000. */
  retainMs?: number;
  /**
   * Ties a stream to whoever asked for it: the value it returns for the request that started the stream must be
   * returned again for a request that resumes or cancels it (else that request gets 404, as for an unknown id).
   * Typically the user id your authentication put on the request. Default: the stream id alone is the capability.
   */
  userOf?: (request: Req) => string | undefined | Promise<string | undefined>;
}

/** Which models clients may ask for: a list, or a predicate (may be async) that sees the incoming request. */
export type AllowModels<Req> = readonly string[] | ((model: string, request: Req) => boolean | Promise<boolean>);

export interface RelayOptions<Req>
  extends Pick<ClientOptions, 'apiKey' | 'baseURL' | 'transport' | 'headers' | 'timeout' | 'maxEventSize' | 'scheduler'> {
  /** Path prefix of the relay's routes; default `/v1`. `''` serves `/chat/completions` etc. at the root. */
  prefix?: string;
  /** Routes beyond chat, legacy completions and Responses: the model routes (on by default) and opt-in JSON routes. */
  routes?: RelayRoutesOption;
  /** Larger request bodies are answered with 413 without reading the rest; default 1 MiB. */
  maxBodyBytes?: number;
  /** Larger non-streaming upstream responses are answered with 502; default 16 MiB. */
  maxResponseBytes?: number;
  /** A `: keep-alive` comment is written after this long without any other write; default 15 000, 0 turns it off. */
  heartbeatMs?: number;
  /**
   * A client that takes none of the bytes the relay holds for it for this long is disconnected and its upstream
   * request aborted (outcome `client-stalled`): a reader that stopped reading cannot hold a generation, or a large
   * JSON answer, forever. Default 60 000; 0 turns it off.
   */
  stalledClientMs?: number;
  /**
   * Lets pages on other origins call the relay from a browser: `true` (any origin), an origin, a RegExp (matched
   * against the whole origin), a list of them, `(origin, request) => boolean | Promise<boolean>`, or
   * `{ origin, credentials?, maxAgeSeconds?, allowHeaders?, exposeHeaders? }`. The relay answers preflights itself
   * (204, or 403 for a refused origin) and adds `Access-Control-Allow-Origin` and `-Expose-Headers` to its answers
   * to allowed origins. Default: off (a preflight gets 405).
   */
  cors?: RelayCorsOption<Req>;
  /**
   * Resume mode: a streamed generation outlives the connection that asked for it. Its frames go to a store
   * (each event numbered with an `id:` line), the answer carries `x-stream-id`, `GET {prefix}/streams/{id}` re-attaches
   * after a dropped connection and `POST {prefix}/streams/{id}/cancel` stops it on whichever instance holds it.
   * `true` uses an in-process `memoryResumeStore()`. Default: off.
   */
  resume?: boolean | RelayResumeOptions<Req>;
  /** Checked against the `model` the client sent; a model not allowed is answered with 403. */
  allowModels?: AllowModels<Req>;
  /**
   * Rewrites the validated body before it goes upstream (force a model, cap `max_tokens`, add `user`).
   * Throw a `RelayRejection` to answer the client with its status and message.
   */
  transformRequest?: (body: RelayRequestBody, request: Req) => RelayRequestBody | Promise<RelayRequestBody>;
  /**
   * Sees every frame from upstream, parsed, as it enters the relay's log, before its bytes are written to the
   * client. It cannot change what is relayed: the client gets upstream's bytes whatever the hook does, and a
   * throw goes to `onError`. Setting it makes the relay parse every frame (the audit alone reads few of them).
   */
  onFrame?: (frame: SseFrame, context: RelayContext<Req>) => void;
  /** Called exactly once per handled request. */
  onSettled?: (summary: RelaySummary<Req>) => void;
  /** Records every request relayed upstream as a GenAI operation (spans, metrics), e.g. `openTelemetry({ meterProvider })`. */
  telemetry?: Telemetry;
  /**
   * Receives exceptions thrown by the other hooks (they never break the response) and unexpected relay failures.
   * Default: `console.error`.
   */
  onError?: (error: unknown, context: RelayContext<Req> | undefined) => void;
}
