import type { SseFrame } from '../sse/types.js';

/*
 * The contract between what makes requests (the client, the relay) and what
 * records them (`openTelemetry()`, or your own). Everything here is a type:
 * a module that depends on it loads no telemetry code.
 */

/** The streaming endpoints telemetry knows; each has its `gen_ai.operation.name` and its way of reading frames. */
export type TelemetryEndpoint = 'chat/completions' | 'completions' | 'responses';

/** What is known when a request starts. */
export interface OperationStart {
  endpoint: TelemetryEndpoint;
  /** The model asked for (`gen_ai.request.model`); anything but a non-empty string is left out. */
  model?: string;
  /** Where the request goes (a base URL is enough): `server.address` and `server.port`. */
  url: string;
  /** `false` for a request answered with one JSON body; default `true`. */
  stream?: boolean;
}

/** Token counts as the provider reported them; a count it did not report is absent. */
export interface TokenUsage {
  inputTokens?: number;
  outputTokens?: number;
  /** Input tokens served from the provider's prompt cache (part of `inputTokens`). */
  cachedInputTokens?: number;
  /** Output tokens spent on reasoning (part of `outputTokens`). */
  reasoningTokens?: number;
}

/** What the answer says about itself. Each field given replaces the one recorded before. */
export interface ResponseInfo {
  model?: string;
  id?: string;
  /** One per choice, in choice order: `stop`, `length`, `tool_calls`, `content_filter`. */
  finishReasons?: readonly string[];
  usage?: TokenUsage;
}

/** How an operation ended: no field for a success. */
export interface OperationOutcome {
  /** What it failed with; `error.type` is derived from it. */
  error?: unknown;
  /** Overrides the derived `error.type` (a low-cardinality name such as `timeout`). */
  errorType?: string;
  /** The caller left first (unsubscribed, aborted, disconnected): recorded, but not as an error. */
  cancelled?: boolean;
}

/** One request being recorded. Its methods never throw, and cost little enough to call on every frame. */
export interface OperationTelemetry {
  /**
   * Every raw frame of the streamed answer, in order. Output chunks are timed
   * (time to the first, time between the next ones); model, id, finish reasons,
   * usage and an in-stream error are read from the few frames that carry them.
   * A JSON answer (an operation started with `stream: false`) is read the same
   * way when given as one frame: `{ type: 'event', data: body }`.
   */
  frame(frame: SseFrame): void;
  /** What is known of the answer from elsewhere. */
  response(info: ResponseInfo): void;
  /** Ends the operation and records it; only the first call counts. */
  end(outcome?: OperationOutcome): void;
}

/**
 * Records requests: spans and metrics for `openTelemetry()`, whatever a custom
 * implementation wants otherwise.
 *
 * @example
 * const client = createClient({ telemetry: openTelemetry() });
 */
export interface Telemetry {
  /** Called when a request starts; the caller ends the operation exactly once. */
  startOperation(start: OperationStart): OperationTelemetry;
}
