import { LISTEN_OPTIONS, SERVER_LIMIT_OPTIONS, parseCommand, portFrom, serverLimitsFrom } from './args.js';
import { ExitCode } from './exitCodes.js';
import type { CliOutput } from './io.js';
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
      upstream: { type: 'string' },
      'api-key': { type: 'string' },
      verbose: { type: 'boolean', short: 'v' },
    },
    output,
  );
  if (!parsed) return ExitCode.ok;
  const { values } = parsed;
  output.addSecrets(values['api-key'], env.OPENAI_API_KEY);
  const upstream = resolveUpstream({ url: values.upstream, urlFlag: '--upstream', apiKey: values['api-key'], env });
  const port = portFrom(values.port, env, DEFAULT_RELAY_PORT);
  const limits = serverLimitsFrom(values);
  const server = await startRelayServer({ port, host: values.host, upstream, output, verbose: values.verbose, limits });
  output.out(`openai-rx relay listening on ${server.url}/v1 → upstream ${describeUpstream(upstream)}\n`);
  return serveUntilStopped(output, [server]);
}
