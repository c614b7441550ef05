const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export type StopSignal = (typeof STOP_SIGNALS)[number];

/**
 * Calls `onStop` at the first SIGINT (Ctrl-C) or SIGTERM. A second one while
 * the command is still winding down ends the process at once with
 * `forcedExitCode`. Returns a function that removes the handlers.
 */
export function onStopSignal(onStop: (signal: StopSignal) => void, forcedExitCode = 130): () => void {
  let stopping = false;
  const handler = (signal: StopSignal) => {
    if (stopping) process.exit(forcedExitCode);
    stopping = true;
    onStop(signal);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, handler);
  return () => {
    for (const signal of STOP_SIGNALS) process.off(signal, handler);
  };
}
