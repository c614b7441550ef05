import { ExitCode } from './exitCodes.js';
import type { CliOutput } from './io.js';
import { onStopSignal, type StopSignal } from './signals.js';

export interface Stoppable {
  /** Requests still being answered, reported when the command stops. */
  activeRequests(): number;
  /** Ends open streams and stops listening. */
  close(): Promise<void>;
}

/**
 * Keeps a server command running until Ctrl-C or SIGTERM, then closes
 * everything in order, open streams included, and resolves with exit code 0
 * (a clean stop). A second signal while closing ends the process at once.
 */
export async function serveUntilStopped(output: CliOutput, servers: readonly Stoppable[]): Promise<number> {
  let removeHandlers: () => void = () => undefined;
  const signal = await new Promise<StopSignal>((resolve) => {
    removeHandlers = onStopSignal(resolve);
  });
  const open = servers.reduce((sum, server) => sum + server.activeRequests(), 0);
  output.err(`${signal}: shutting down${open > 0 ? `, closing ${open} open request${open === 1 ? '' : 's'}` : ''}`);
  for (const server of servers) await server.close();
  removeHandlers();
  output.err('stopped');
  return ExitCode.ok;
}
