import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Telemetry } from '../telemetry/types.js';
import { ListenError, UsageError } from './exitCodes.js';
import { listenHttp, type RunningServer } from './httpServer.js';

/** The optional peer dependencies `--metrics-port` loads, only when it is given. */
export const METRICS_PACKAGES = ['@opentelemetry/api', '@opentelemetry/sdk-metrics', '@opentelemetry/exporter-prometheus'] as const;

/** Prometheus' scrape path. */
export const METRICS_PATH = '/metrics';

export interface MetricsServer extends RunningServer {
  /** Records into the metrics this server exposes. */
  readonly telemetry: Telemetry;
}

/**
 * A server on `host:port` that answers `GET /metrics` with the Prometheus
 * text of every metric `telemetry` records, through
 * @opentelemetry/exporter-prometheus. Its packages are loaded now: when one
 * is missing, a {@link UsageError} names what to install.
 *
 * @example
 * const metrics = await startMetricsServer(9464, '127.0.0.1');
 * createRelay({ telemetry: metrics.telemetry });
 */
export async function startMetricsServer(port: number, host: string): Promise<MetricsServer> {
  const { MeterProvider, PrometheusExporter, openTelemetry } = await loadMetricsPackages();
  // Served by our own server: the exporter's would keep keep-alive scrapes open past a stop, and lacks the slow-client limits.
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ readers: [exporter] });
  const scrape = (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.split('?')[0] === METRICS_PATH) exporter.getMetricsRequestHandler(req, res);
    else res.writeHead(404, { 'content-type': 'text/plain' }).end(`Not found: metrics are at ${METRICS_PATH}\n`);
  };
  let server: RunningServer;
  try {
    server = await listenHttp(scrape, port, host);
  } catch (error) {
    await meterProvider.shutdown();
    throw error instanceof ListenError ? new ListenError(error.message.replace(/--port$/, '--metrics-port')) : error;
  }
  return {
    url: server.url,
    port: server.port,
    activeRequests: () => server.activeRequests(),
    async close() {
      await server.close();
      await meterProvider.shutdown();
    },
    telemetry: openTelemetry({ meterProvider }),
  };
}

async function loadMetricsPackages() {
  try {
    const [{ MeterProvider }, { PrometheusExporter }, { openTelemetry }] = await Promise.all([
      import('@opentelemetry/sdk-metrics'),
      import('@opentelemetry/exporter-prometheus'),
      // Imports @opentelemetry/api.
      import('../telemetry/openTelemetry.js'),
    ]);
    return { MeterProvider, PrometheusExporter, openTelemetry };
  } catch (error) {
    if (!isModuleNotFound(error)) throw error;
    throw new UsageError(`--metrics-port needs the optional packages ${METRICS_PACKAGES.join(', ')}: npm install ${METRICS_PACKAGES.join(' ')}`);
  }
}

function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}
