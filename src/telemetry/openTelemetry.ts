import {
  context,
  metrics,
  SpanKind,
  SpanStatusCode,
  trace,
  ValueType,
  type Attributes,
  type Histogram,
  type MeterProvider,
  type Span,
  type TracerProvider,
} from '@opentelemetry/api';
import type { SseFrame } from '../sse/types.js';
import { errorTypeOf, isCancellation } from './errorType.js';
import { createFrameReader } from './frameReader.js';
import { serverAddressOf, type ServerAddress } from './serverAddress.js';
import type { OperationOutcome, OperationTelemetry, ResponseInfo, Telemetry, TelemetryEndpoint } from './types.js';

/*
 * The only module that imports @opentelemetry/api (an optional peer
 * dependency): an app that never imports `openTelemetry` loads none of it.
 */

export interface OpenTelemetryConfig {
  /** Default: the global one an SDK registers; without one, spans are no-ops. */
  tracerProvider?: TracerProvider;
  /** Default: the global one an SDK registers, looked up at the first request; without one, metrics are no-ops. */
  meterProvider?: MeterProvider;
  /** `gen_ai.provider.name`; default `openai`. Name the real one behind an OpenAI-compatible API (`groq`, `azure.ai.openai`…). */
  providerName?: string;
  /** Milliseconds for the durations; default `performance.now()`. */
  now?: () => number;
}

/** The instrumentation scope of every span and metric. */
export const TELEMETRY_SCOPE = 'openai-rx';

const OPERATION_NAMES: Record<TelemetryEndpoint, string> = { 'chat/completions': 'chat', completions: 'text_completion', responses: 'chat' };
/** `openai.api.type`: which of OpenAI's APIs a `chat` operation went through. */
const API_TYPES: Partial<Record<TelemetryEndpoint, string>> = { 'chat/completions': 'chat_completions', responses: 'responses' };

// The bucket boundaries the semantic conventions advise.
const SECONDS_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

/** Longest request model kept; a longer one is cut (it names the span and labels every metric). */
const MAX_MODEL_CHARS = 256;
/** Longest error message kept as the span's status description. */
const MAX_STATUS_CHARS = 500;

interface Instruments {
  duration: Histogram;
  tokens: Histogram;
  timeToFirstChunk: Histogram;
  timePerOutputChunk: Histogram;
}

/**
 * A {@link Telemetry} that records every request as OpenTelemetry's GenAI
 * semantic conventions describe: a CLIENT span `chat gpt-4o-mini` and the
 * metrics `gen_ai.client.operation.duration`, `gen_ai.client.token.usage`,
 * `gen_ai.client.operation.time_to_first_chunk` and
 * `gen_ai.client.operation.time_per_output_chunk`.
 *
 * @example
 * const client = createClient({ telemetry: openTelemetry() });   // the SDK your app registered
 * const relay = createRelay({ telemetry: openTelemetry({ meterProvider }) });
 */
export function openTelemetry(config: OpenTelemetryConfig = {}): Telemetry {
  const tracer = (config.tracerProvider ?? trace.getTracerProvider()).getTracer(TELEMETRY_SCOPE);
  const providerName = config.providerName ?? 'openai';
  const now = config.now ?? (() => performance.now());
  let instruments: Instruments | undefined;
  let lastServer: { url: string; server: ServerAddress | undefined } | undefined;
  const serverOf = (url: string) => {
    if (lastServer?.url !== url) lastServer = { url, server: serverAddressOf(url) };
    return lastServer.server;
  };

  return {
    startOperation(start) {
      instruments ??= createInstruments(config.meterProvider ?? metrics.getMeterProvider());
      const operationName = OPERATION_NAMES[start.endpoint] ?? 'chat';
      const model = typeof start.model === 'string' && start.model !== '' ? start.model.slice(0, MAX_MODEL_CHARS) : undefined;
      const attributes: Attributes = { 'gen_ai.operation.name': operationName, 'gen_ai.provider.name': providerName };
      if (model) attributes['gen_ai.request.model'] = model;
      const server = serverOf(start.url);
      if (server) {
        attributes['server.address'] = server.address;
        if (server.port !== undefined) attributes['server.port'] = server.port;
      }
      const stream = start.stream !== false;
      const spanAttributes: Attributes = { ...attributes };
      if (stream) spanAttributes['gen_ai.request.stream'] = true;
      const apiType = API_TYPES[start.endpoint];
      if (apiType && providerName === 'openai') spanAttributes['openai.api.type'] = apiType;
      const span = tracer.startSpan(
        model ? `${operationName} ${model}` : operationName,
        { kind: SpanKind.CLIENT, attributes: spanAttributes },
        context.active(),
      );
      return new GenAIOperation(start.endpoint, span, instruments, attributes, stream, now);
    },
  };
}

function createInstruments(provider: MeterProvider): Instruments {
  const meter = provider.getMeter(TELEMETRY_SCOPE);
  const seconds = (name: string, description: string) =>
    meter.createHistogram(name, { unit: 's', description, advice: { explicitBucketBoundaries: SECONDS_BUCKETS } });
  return {
    duration: seconds('gen_ai.client.operation.duration', 'GenAI operation duration.'),
    tokens: meter.createHistogram('gen_ai.client.token.usage', {
      unit: '{token}',
      description: 'Number of input and output tokens used.',
      valueType: ValueType.INT,
      advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
    }),
    timeToFirstChunk: seconds('gen_ai.client.operation.time_to_first_chunk', 'Time to receive the first chunk of a streamed response.'),
    timePerOutputChunk: seconds('gen_ai.client.operation.time_per_output_chunk', 'Time between consecutive output chunks of a streamed response.'),
  };
}

/** One request: its span, and the metrics recorded as its chunks arrive and when it ends. */
class GenAIOperation implements OperationTelemetry {
  readonly frame: (frame: SseFrame) => void;
  private readonly startedAt: number;
  private lastChunkAt: number | undefined;
  private info: ResponseInfo = {};
  private inStreamErrorType: string | undefined;
  private ended = false;

  constructor(
    endpoint: TelemetryEndpoint,
    private readonly span: Span,
    private readonly instruments: Instruments,
    /** The metrics' attributes; the response model joins them once known. */
    private attributes: Attributes,
    private readonly stream: boolean,
    private readonly now: () => number,
  ) {
    this.startedAt = now();
    const read = createFrameReader(endpoint, {
      chunk: () => this.chunk(),
      response: (info) => this.response(info),
      inStreamError: (errorType) => (this.inStreamErrorType ??= errorType),
    });
    this.frame = (frame) => {
      if (!this.ended) read(frame);
    };
  }

  response(info: ResponseInfo): void {
    if (this.ended) return;
    if (info.model !== undefined && info.model !== this.info.model) this.attributes = { ...this.attributes, 'gen_ai.response.model': info.model };
    this.info = {
      model: info.model ?? this.info.model,
      id: info.id ?? this.info.id,
      finishReasons: info.finishReasons ?? this.info.finishReasons,
      usage: info.usage ?? this.info.usage,
    };
  }

  end(outcome: OperationOutcome = {}): void {
    if (this.ended) return;
    this.ended = true;
    const error = isCancellation(outcome.error) ? undefined : outcome.error;
    const errorType = outcome.errorType ?? (error !== undefined ? errorTypeOf(error) : this.inStreamErrorType);
    const cancelled = errorType === undefined && (outcome.cancelled === true || isCancellation(outcome.error));
    this.recordMetrics(errorType);
    this.span.setAttributes(this.responseAttributes());
    if (cancelled) this.span.setAttribute('openai_rx.cancelled', true);
    if (errorType !== undefined) {
      this.span.setAttribute('error.type', errorType);
      const message = error instanceof Error ? error.message.slice(0, MAX_STATUS_CHARS) : undefined;
      this.span.setStatus({ code: SpanStatusCode.ERROR, message });
    }
    this.span.end();
  }

  private chunk(): void {
    if (!this.stream) return;
    const at = this.now();
    if (this.lastChunkAt === undefined) {
      const seconds = (at - this.startedAt) / 1000;
      this.instruments.timeToFirstChunk.record(seconds, this.attributes);
      this.span.setAttribute('gen_ai.response.time_to_first_chunk', seconds);
    } else {
      this.instruments.timePerOutputChunk.record((at - this.lastChunkAt) / 1000, this.attributes);
    }
    this.lastChunkAt = at;
  }

  private recordMetrics(errorType: string | undefined): void {
    const seconds = (this.now() - this.startedAt) / 1000;
    this.instruments.duration.record(seconds, errorType === undefined ? this.attributes : { ...this.attributes, 'error.type': errorType });
    const { inputTokens, outputTokens } = this.info.usage ?? {};
    if (inputTokens !== undefined) this.instruments.tokens.record(inputTokens, { ...this.attributes, 'gen_ai.token.type': 'input' });
    if (outputTokens !== undefined) this.instruments.tokens.record(outputTokens, { ...this.attributes, 'gen_ai.token.type': 'output' });
  }

  private responseAttributes(): Attributes {
    const { model, id, finishReasons, usage = {} } = this.info;
    const attributes: Attributes = {
      'gen_ai.response.model': model,
      'gen_ai.response.id': id,
      'gen_ai.response.finish_reasons': finishReasons ? [...finishReasons] : undefined,
      'gen_ai.usage.input_tokens': usage.inputTokens,
      'gen_ai.usage.output_tokens': usage.outputTokens,
      'gen_ai.usage.cache_read.input_tokens': usage.cachedInputTokens,
      'gen_ai.usage.reasoning.output_tokens': usage.reasoningTokens,
    };
    for (const key of Object.keys(attributes)) if (attributes[key] === undefined) delete attributes[key];
    return attributes;
  }
}
