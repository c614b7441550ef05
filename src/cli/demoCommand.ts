import { performance } from 'node:perf_hooks';
import { startMockUpstream, type MockUpstream } from '../testing/mockUpstream.js';
import { LISTEN_OPTIONS, SERVER_LIMIT_OPTIONS, millisecondsOption, parseCommand, portFrom, serverLimitsFrom } from './args.js';
import { demoPages } from './demo/demoPages.js';
import { loadDemoBundle } from './demo/pageBundle.js';
import { ExitCode } from './exitCodes.js';
import type { CliOutput } from './io.js';
import { DEFAULT_RELAY_PORT } from './relayCommand.js';
import { startRelayServer } from './relayServer.js';
import { serveUntilStopped, type Stoppable } from './serveUntilStopped.js';
import { describeUpstream, MOCK_TOKEN_DELAY_MS, resolveUpstream, type Upstream } from './upstream.js';

const DEFAULT_MODEL = 'gpt-4o-mini';

/**
 * `openai-rx demo` (`npm start`): the relay and the demo page on one origin.
 * The upstream is OPENAI_BASE_URL / OPENAI_API_KEY when a key is set (or
 * `--upstream`), else the embedded mock.
 */
export async function demoCommand(argv: string[], output: CliOutput, env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parseCommand(
    'demo',
    argv,
    {
      ...LISTEN_OPTIONS,
      ...SERVER_LIMIT_OPTIONS,
      upstream: { type: 'string' },
      'api-key': { type: 'string' },
      mock: { type: 'boolean' },
      model: { type: 'string', short: 'm' },
      delay: { type: 'string' },
    },
    output,
  );
  if (!parsed) return ExitCode.ok;
  const { values } = parsed;
  output.addSecrets(values['api-key'], env.OPENAI_API_KEY);
  const port = portFrom(values.port, env, DEFAULT_RELAY_PORT);
  const limits = serverLimitsFrom(values);
  const tokenDelayMs = values.delay === undefined ? MOCK_TOKEN_DELAY_MS : millisecondsOption(values.delay, '--delay', 0);
  const useMock = values.mock || (values.upstream === undefined && !values['api-key'] && !env.OPENAI_API_KEY);

  const bundleStart = performance.now();
  const bundle = await loadDemoBundle();
  const bundleNote =
    bundle.origin === 'esbuild'
      ? `page bundled with esbuild in ${Math.round(performance.now() - bundleStart)} ms (${kilobytes(bundle.code)})`
      : `page: prebuilt bundle (${kilobytes(bundle.code)})`;

  const stoppables: Stoppable[] = [];
  let mock: MockUpstream | undefined;
  try {
    let upstream: Upstream;
    let upstreamLabel: string;
    if (useMock) {
      mock = await startMockUpstream({ tokenDelayMs });
      upstream = { baseURL: mock.baseURL, apiKey: undefined, keySource: undefined };
      upstreamLabel = `embedded mock (${mock.baseURL}, ${tokenDelayMs} ms per token)`;
    } else {
      upstream = resolveUpstream({ url: values.upstream, urlFlag: '--upstream', apiKey: values['api-key'], env, withoutKey: 'use the embedded mock (--mock)' });
      upstreamLabel = describeUpstream(upstream);
    }
    const model = values.model ?? DEFAULT_MODEL;
    const server = await startRelayServer({
      port,
      host: values.host,
      upstream,
      output,
      pages: demoPages({ model, mock: useMock, upstreamLabel }, bundle.code),
      limits,
      // A reload mid-answer picks the answer up: the generation outlives the page's connection.
      resume: true,
    });
    stoppables.push(server);
    if (mock) {
      const embedded = mock;
      stoppables.push({ activeRequests: () => 0, close: () => embedded.close() });
    }
    output.out(
      [
        `openai-rx demo: open ${server.url}/`,
        `relay: ${server.url}/v1 → upstream ${upstreamLabel}`,
        ...(useMock ? ['(set OPENAI_API_KEY, and OPENAI_BASE_URL for another provider, to use a real model)'] : []),
        '',
      ].join('\n'),
    );
    output.err(`${bundleNote}; Ctrl-C to stop`);
    return await serveUntilStopped(output, stoppables);
  } catch (error) {
    await mock?.close();
    throw error;
  }
}

function kilobytes(code: string): string {
  return `${(Buffer.byteLength(code) / 1024).toFixed(1)} KB`;
}
