import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { DataPointType, MeterProvider, MetricReader, type DataPoint, type Histogram, type MetricData } from '@opentelemetry/sdk-metrics';
import { openTelemetry, type OpenTelemetryConfig } from '../../src/opentelemetry';
import type { Telemetry } from '../../src/index.node';

/** A reader the spec collects from when it wants to look: no timer, no export. */
class CollectingReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** One histogram point, flattened: its attributes and what it counted. */
export interface HistogramPoint {
  attributes: Record<string, unknown>;
  count: number;
  sum: number | undefined;
  min: number | undefined;
  max: number | undefined;
}

export interface OtelHarness {
  readonly tracerProvider: BasicTracerProvider;
  readonly meterProvider: MeterProvider;
  /** `openTelemetry()` on this harness's providers. */
  readonly telemetry: Telemetry;
  /** The spans ended so far. */
  spans(): ReadableSpan[];
  /** The points of every histogram recorded so far, by metric name. */
  histograms(): Promise<Map<string, HistogramPoint[]>>;
  shutdown(): Promise<void>;
}

/** In-memory OpenTelemetry SDK providers (trace and metrics) and a telemetry recording into them. */
export function otelHarness(config: Omit<OpenTelemetryConfig, 'tracerProvider' | 'meterProvider'> = {}): OtelHarness {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    tracerProvider,
    meterProvider,
    telemetry: openTelemetry({ ...config, tracerProvider, meterProvider }),
    spans: () => exporter.getFinishedSpans(),
    async histograms() {
      const { resourceMetrics } = await reader.collect();
      const metrics: MetricData[] = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
      return new Map(metrics.filter((metric) => metric.dataPointType === DataPointType.HISTOGRAM).map((metric) => [metric.descriptor.name, metric.dataPoints.map(histogramPoint)]));
    },
    async shutdown() {
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}

function histogramPoint(point: DataPoint<unknown>): HistogramPoint {
  const value = point.value as Histogram;
  return { attributes: { ...point.attributes }, count: value.count, sum: value.sum, min: value.min, max: value.max };
}

/** The one span the harness holds; fails when there is not exactly one. */
export function onlySpan(harness: OtelHarness): ReadableSpan {
  const spans = harness.spans();
  if (spans.length !== 1) throw new Error(`Expected one span, got ${spans.length}: ${spans.map((span) => span.name).join(', ')}`);
  return spans[0];
}
