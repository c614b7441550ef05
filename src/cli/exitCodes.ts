import {
  APIConnectionError,
  APIError,
  InvalidRequestError,
  StreamAbortError,
  StreamProtocolError,
  StreamTimeoutError,
  StreamTruncatedError,
} from '../errors.js';

/**
 * The exit status of every `openai-rx` command: one per kind of failure, so a
 * script can tell "fix the request" from "try again later". The README holds
 * the same table.
 */
export const ExitCode = {
  ok: 0,
  /** Any other failure: the demo page bundle is missing, or something the CLI did not expect (with a stack trace). */
  unexpected: 1,
  /** Unknown command or option, bad value, no prompt, no API key; a key or URL that cannot be sent (`InvalidRequestError`). */
  usage: 2,
  /** `APIError`: the provider answered with an HTTP error status, or sent an error event inside the stream. */
  api: 3,
  /** `APIConnectionError`: no connection, or the connection broke before the stream ended. */
  connection: 4,
  /** `StreamTimeoutError`: a `--timeout` limit fired. */
  timeout: 5,
  /** `StreamProtocolError`: not an event stream, malformed JSON, an oversize event. */
  protocol: 6,
  /** `StreamTruncatedError`: the stream ended before the answer finished. */
  truncated: 7,
  /** A server command could not listen (port in use, no permission). */
  listen: 8,
  /** Stopped by Ctrl-C: 128 + SIGINT. */
  interrupted: 130,
  /** Stopped by SIGTERM: 128 + SIGTERM. */
  terminated: 143,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A command line the CLI cannot run; printed with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The demo page's script could neither be read (prebuilt) nor bundled (no esbuild). */
export class DemoBundleError extends Error {
  override name = 'DemoBundleError';
}

/** A server command's `listen` failed. */
export class ListenError extends Error {
  override name = 'ListenError';
}

export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof UsageError || error instanceof InvalidRequestError) return ExitCode.usage;
  if (error instanceof ListenError) return ExitCode.listen;
  if (error instanceof APIError) return ExitCode.api;
  if (error instanceof APIConnectionError) return ExitCode.connection;
  if (error instanceof StreamTimeoutError) return ExitCode.timeout;
  if (error instanceof StreamProtocolError) return ExitCode.protocol;
  if (error instanceof StreamTruncatedError) return ExitCode.truncated;
  if (error instanceof StreamAbortError) return ExitCode.interrupted;
  return ExitCode.unexpected;
}

/** The exit status of a process stopped by `signal`, as shells report it. */
export function exitCodeOfSignal(signal: NodeJS.Signals): ExitCode {
  return signal === 'SIGTERM' ? ExitCode.terminated : ExitCode.interrupted;
}
