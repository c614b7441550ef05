import { LISTEN_OPTIONS, SERVER_LIMIT_OPTIONS, parseCommand, portFrom, portOption, serverLimitsFrom } from './args.js';
import type { IncomingMessage } from 'node:http';
import { corsPolicy, type RelayCorsOption } from '../relay/cors.js';
import { ExitCode, UsageError } from './exitCodes.js';
import type { CliOutput } from './io.js';
import { METRICS_PATH, startMetricsServer } from './metricsServer.js';
import { DEFAULT_MOCK_PORT } from './mockCommand.js';
import { redisStoreFrom } from './resumeStore.js';
import { startRelayServer } from './relayServer.js';
import { serveUntilStopped } from './serveUntilStopped.js';
import { describeUpstream, resolveUpstream } from './upstream.js';

export const DEFAULT_RELAY_PORT = 8787;

/** `openai-rx relay`: the node:http relay as a server, until Ctrl-C. */
export async function relayCommand(argv: string[], output: CliOutput, env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parseCommand(
    'relay',
    argv,
    {
      ...LISTEN_OPTIONS,
      ...SERVER_LIMIT_OPTIONS,
      cors: { type: 'string', multiple: true },
      upstream: { type: 'string' },
      'api-key': { type: 'string' },
      'metrics-port': { type: 'string' },
      resume: { type: 'boolean' },
      redis: { type: 'string' },
      verbose: { type: 'boolean', short: 'v' },
    },
    output,
  );
  if (!parsed) return ExitCode.ok;
  const { values } = parsed;
  output.addSecrets(values['api-key'], env.OPENAI_API_KEY);
  // Every flag is checked before the key: a bad --port is reported as such whether or not a key is set.
  const port = portFrom(values.port, env, DEFAULT_RELAY_PORT);
  const limits = serverLimitsFrom(values);
  const cors = corsFrom(values.cors);
  const metricsPort = values['metrics-port'] === undefined ? undefined : portOption(values['metrics-port'], '--metrics-port');
  const upstream = resolveUpstream({
    url: values.upstream,
    urlFlag: '--upstream',
    apiKey: values['api-key'],
    env,
    withoutKey: `relay to an upstream that needs none (--upstream URL; openai-rx mock runs one on port ${DEFAULT_MOCK_PORT})`,
  });
  const redis = values.redis === undefined ? undefined : await redisStoreFrom(values.redis);
  // Metrics only ever on the loopback interface: they name models and upstream hosts.
  const metrics = metricsPort === undefined ? undefined : await startMetricsServer(metricsPort, '127.0.0.1');
  const resume = redis ? { store: redis.store } : values.resume;
  const others = [...(metrics ? [metrics] : []), ...(redis ? [redis.stoppable] : [])];
  const server = await startRelayServer({ port, host: values.host, upstream, output, verbose: values.verbose, limits, cors, telemetry: metrics?.telemetry, resume }).catch(
    async (error: unknown) => {
      for (const other of others) await other.close();
      throw error;
    },
  );
  const mode = redis ? ' (resume mode, streams in Redis)' : values.resume ? ' (resume mode)' : '';
  output.out(`openai-rx relay listening on ${server.url}/v1 → upstream ${describeUpstream(upstream)}${mode}\n`);
  if (metrics) output.out(`metrics (Prometheus) at ${metrics.url}${METRICS_PATH}\n`);
  // The relay first: requests still open record their end before the metrics server and the store close.
  return serveUntilStopped(output, [server, ...others]);
}

/** `--cors <origin>`, repeatable: the origins listed, or `*` alone for any origin; checked before the server starts. */
export function corsFrom(origins: string[] | undefined): RelayCorsOption<IncomingMessage> | undefined {
  if (origins === undefined) return undefined;
  if (origins.includes('*') && origins.length > 1) throw new UsageError("--cors '*' allows any origin; list origins or give '*' alone");
  const cors = origins.includes('*') || origins;
  try {
    corsPolicy(cors);
  } catch (error) {
    throw new UsageError(`--cors: ${error instanceof Error ? error.message : String(error)}`);
  }
  return cors;
}
