import { startMockUpstream } from '../testing/mockUpstream.js';
import { LISTEN_OPTIONS, millisecondsOption, parseCommand, portOption } from './args.js';
import { ExitCode } from './exitCodes.js';
import { listenError } from './httpServer.js';
import type { CliOutput } from './io.js';
import { serveUntilStopped } from './serveUntilStopped.js';
import { MOCK_TOKEN_DELAY_MS } from './upstream.js';

export const DEFAULT_MOCK_PORT = 8788;

/** `openai-rx mock`: the mock upstream as a server, until Ctrl-C. */
export async function mockCommand(argv: string[], output: CliOutput): Promise<number> {
  const parsed = parseCommand(
    'mock',
    argv,
    {
      ...LISTEN_OPTIONS,
      delay: { type: 'string' },
      'api-key': { type: 'string' },
      cors: { type: 'boolean' },
    },
    output,
  );
  if (!parsed) return ExitCode.ok;
  const { values } = parsed;
  output.addSecrets(values['api-key']);
  const port = portOption(values.port ?? String(DEFAULT_MOCK_PORT));
  const tokenDelayMs = values.delay === undefined ? MOCK_TOKEN_DELAY_MS : millisecondsOption(values.delay, '--delay', 0);
  const mock = await startMockUpstream({ port, host: values.host, tokenDelayMs, apiKey: values['api-key'], cors: values.cors }).catch(
    (error: NodeJS.ErrnoException) => {
      throw listenError(error, values.host, port);
    },
  );
  output.out(`openai-rx mock upstream listening on ${mock.baseURL}\n`);
  output.err(`try: openai-rx chat --base-url ${mock.baseURL} "hello"`);
  return serveUntilStopped(output, [
    { activeRequests: () => mock.requests.filter((request) => request.state === 'open').length, close: () => mock.close() },
  ]);
}
