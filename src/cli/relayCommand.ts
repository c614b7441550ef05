import { parseCommandArgs, portOption } from './args.js';
import { ExitCode } from './exitCodes.js';
import type { CliOutput } from './io.js';
import { startRelayServer } from './relayServer.js';
import { serveUntilStopped } from './serveUntilStopped.js';
import { describeUpstream, resolveUpstream } from './upstream.js';
import { HELP } from './usage.js';

export const DEFAULT_RELAY_PORT = 8787;

/** `openai-rx relay`: the node:http relay as a server, until Ctrl-C. */
export async function relayCommand(argv: string[], output: CliOutput, env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseCommandArgs('relay', argv, {
    port: { type: 'string', short: 'p' },
    host: { type: 'string', default: '127.0.0.1' },
    upstream: { type: 'string' },
    'api-key': { type: 'string' },
    verbose: { type: 'boolean', short: 'v' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    output.out(HELP.relay);
    return ExitCode.ok;
  }
  output.addSecret(values['api-key']);
  output.addSecret(env.OPENAI_API_KEY);
  const upstream = resolveUpstream({ url: values.upstream, urlFlag: '--upstream', apiKey: values['api-key'], env });
  const port = portOption(values.port ?? env.PORT ?? String(DEFAULT_RELAY_PORT), values.port === undefined && env.PORT ? 'PORT' : '--port');
  const server = await startRelayServer({ port, host: values.host, upstream, output, verbose: values.verbose });
  output.out(`openai-rx relay listening on ${server.url}/v1 → upstream ${describeUpstream(upstream)}\n`);
  return serveUntilStopped(output, [server]);
}
