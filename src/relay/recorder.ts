import type { SseFrame } from '../sse/types.js';
import type { OperationOutcome, OperationTelemetry, TelemetryEndpoint } from '../telemetry/types.js';
import { usageIn } from '../openai/usage.js';
import type { RelayRuntime } from './relayRuntime.js';
import type { RelayContext, RelayOutcome, RelaySummary } from './types.js';

/**
 * What one exchange records about itself: the context the hooks see, the
 * counters and the outcome. It settles exactly once; `onFrame` and
 * `onSettled` observe it and never change what is relayed.
 */
export interface Recorder<Req> {
  readonly context: RelayContext<Req>;
  readonly settled: boolean;
  /** The status sent to the client. */
  status(code: number): void;
  /** A frame relayed from upstream. */
  frame(frame: SseFrame): void;
  /** Frames relayed from upstream without being read. */
  counted(frames: number): void;
  /** A JSON answer's body, read for its usage. */
  jsonBody(text: string): void;
  /** The request is about to go upstream: telemetry, when configured, starts recording it. */
  upstreamStarted(baseURL: string): void;
  /** Bytes written to the client (the first write sets the time to first byte). */
  written(bytes: number): void;
  /** Reports the summary to `onSettled`; only the first call counts. */
  settle(outcome: RelayOutcome, error?: unknown): void;
}

export function createRecorder<Req>(relay: RelayRuntime<Req>, request: Req): Recorder<Req> {
  const { onFrame, onSettled } = relay.options;
  const { scheduler } = relay;
  const startedAt = scheduler.now();
  const context: RelayContext<Req> = { request, route: undefined, model: undefined, stream: false, requestId: undefined };
  let settled = false;
  let status = 0;
  let frames = 0;
  let bytes = 0;
  let timeToFirstByteMs: number | undefined;
  let usage: Record<string, unknown> | undefined;
  let operation: OperationTelemetry | undefined;

  return {
    context,
    get settled() {
      return settled;
    },
    status(code) {
      status = code;
    },
    frame(frame) {
      frames++;
      if (frame.type === 'event') usage = usageIn(frame.data) ?? usage;
      if (onFrame) relay.guard(context, () => onFrame(frame, context));
      operation?.frame(frame);
    },
    counted(count) {
      frames += count;
    },
    jsonBody(text) {
      usage = usageIn(text);
      operation?.frame({ type: 'event', data: text });
    },
    upstreamStarted(baseURL) {
      const { telemetry } = relay.options;
      const endpoint = context.route;
      if (!telemetry || !isTelemetryEndpoint(endpoint)) return;
      operation = telemetry.startOperation({ endpoint, model: context.model, url: baseURL, stream: context.stream });
    },
    written(count) {
      timeToFirstByteMs ??= scheduler.now() - startedAt;
      bytes += count;
    },
    settle(outcome, error) {
      if (settled) return;
      settled = true;
      if (status === 0) status = 499;
      operation?.end(operationOutcome(outcome, error));
      if (!onSettled) return;
      const { request: incoming, ...known } = context;
      const summary = {
        ...known,
        outcome,
        status,
        durationMs: scheduler.now() - startedAt,
        timeToFirstByteMs,
        frames,
        bytes,
        usage,
        error: error instanceof Error ? relay.redactError(error) : undefined,
      } as RelaySummary<Req>;
      // Not enumerable: the summary serializes as a log line (an IncomingMessage is circular).
      Object.defineProperty(summary, 'request', { value: incoming, enumerable: false });
      relay.guard(context, () => onSettled(summary));
    },
  };
}

const TELEMETRY_ENDPOINTS = new Set<string | undefined>(['chat/completions', 'completions', 'responses']);

function isTelemetryEndpoint(route: string | undefined): route is TelemetryEndpoint {
  return TELEMETRY_ENDPOINTS.has(route);
}

/** How telemetry sees an outcome: a client that left is a cancellation, not an error. */
function operationOutcome(outcome: RelayOutcome, error: unknown): OperationOutcome {
  if (outcome === 'completed') return {};
  if (outcome === 'client-closed' || outcome === 'cancelled' || outcome === 'abandoned') return { cancelled: true };
  if (outcome === 'client-stalled' || outcome === 'truncated') return { error, errorType: outcome };
  return { error };
}
