import {
  APIConnectionError,
  APIError,
  InvalidRequestError,
  StreamProtocolError,
  StreamTimeoutError,
  StreamTruncatedError,
} from '../errors.js';
import { escapeForTerminal } from './escapeForTerminal.js';
import { DemoBundleError, ListenError, UsageError } from './exitCodes.js';

/** How much of an error body or offending data `--verbose` shows. */
const DETAIL_CHARS = 2000;
/** Stack frames shown for an error the CLI did not expect. */
const MAX_STACK_FRAMES = 30;

export interface ErrorReportContext {
  /** Upstream's `x-request-id` when the error itself does not carry it (errors inside a stream). */
  requestId?: string;
  verbose: boolean;
  /** Removes secrets; applied before a detail is cut, so a cut never leaves part of a key. */
  redact?: (text: string) => string;
}

/**
 * What the CLI prints for an error: one line saying what happened (status,
 * provider message, request id), and with `verbose` the fields behind it.
 * The stack's frames only for errors the CLI did not expect. Each entry is
 * one line to print with `CliOutput.err`, which escapes what the provider sent.
 */
export function describeError(error: unknown, context: ErrorReportContext): string[] {
  const lines = [`openai-rx: ${headline(error, context.requestId)}`];
  if (error instanceof UsageError) lines.push('Run with --help for usage.');
  else if (context.verbose) lines.push(...details(error, context.redact ?? ((text) => text)).map((line) => `  ${line}`));
  else if (!isExpected(error)) lines.push(...stackFrames(error));
  return lines;
}

/**
 * The `at …` lines of an error's stack, one per entry. The stack's first line
 * repeats the message, which may span lines of its own; the headline already says it.
 */
export function stackFrames(error: unknown): string[] {
  if (!(error instanceof Error) || typeof error.stack !== 'string') return [];
  const frames = error.stack.split('\n').filter((line) => /^\s+at /.test(line));
  return frames.slice(0, MAX_STACK_FRAMES);
}

export function isExpected(error: unknown): boolean {
  return (
    error instanceof UsageError ||
    error instanceof InvalidRequestError ||
    error instanceof APIError ||
    error instanceof APIConnectionError ||
    error instanceof StreamTimeoutError ||
    error instanceof StreamProtocolError ||
    error instanceof StreamTruncatedError ||
    error instanceof ListenError ||
    error instanceof DemoBundleError
  );
}

function headline(error: unknown, fallbackRequestId: string | undefined): string {
  if (error instanceof APIError) {
    const kind = error.status !== undefined && !error.inStream ? `HTTP ${error.status}` : 'error event in the stream';
    const code = error.code ?? error.type;
    const requestId = error.requestId ?? fallbackRequestId;
    // HTTP errors' messages start with the status, which the line already shows.
    const message = error.status !== undefined ? error.message.replace(new RegExp(`^${error.status} `), '') : error.message;
    const retry = error.retryAfterMs !== undefined ? ` · retry after ${error.retryAfterMs} ms` : '';
    return `${kind}${code ? ` (${code})` : ''}: ${message}${requestId ? ` · request ${requestId}` : ''}${retry}`;
  }
  const withRequest = (text: string) => (fallbackRequestId ? `${text} · request ${fallbackRequestId}` : text);
  if (error instanceof StreamTimeoutError) {
    const what = {
      headers: 'no response headers within',
      'first-event': 'no first event within',
      idle: 'no new event for',
      total: 'the stream did not end within',
    }[error.phase];
    return withRequest(`timed out: ${what} ${error.timeoutMs} ms`);
  }
  if (error instanceof StreamProtocolError) return withRequest(`protocol error (${error.problem}): ${error.message}`);
  if (error instanceof StreamTruncatedError) return withRequest(`stream cut short: ${error.message}`);
  if (error instanceof APIConnectionError) return withRequest(`connection failed: ${error.message}`);
  if (error instanceof Error) return isExpected(error) ? error.message : `unexpected ${error.name}: ${error.message}`;
  return `unexpected failure: ${String(error)}`;
}

function details(error: unknown, redact: (text: string) => string): string[] {
  if (!(error instanceof Error)) return [];
  const lines = [`error: ${error.name}`];
  const add = (label: string, value: unknown) => {
    if (value !== undefined && value !== null && value !== '') lines.push(`${label}: ${excerpt(value, redact)}`);
  };
  if (error instanceof APIError) {
    add('status', error.status);
    add('type', error.type);
    add('code', error.code);
    add('param', error.param);
    add('request id', error.requestId);
    add('retry after ms', error.retryAfterMs);
    add('in stream', error.inStream || undefined);
    add('body', error.body);
  }
  if (error instanceof StreamTimeoutError) add('phase', error.phase);
  if (error instanceof StreamProtocolError) add('data', error.data);
  if (error instanceof StreamTruncatedError) add('partial', error.partial);
  for (let cause = error.cause, depth = 0; cause !== undefined && depth < 5; cause = (cause as Error).cause, depth++) {
    const code = (cause as { code?: unknown }).code;
    add('cause', cause instanceof Error ? `${cause.name}: ${cause.message}${code ? ` (${String(code)})` : ''}` : cause);
    if (!(cause instanceof Error)) break;
  }
  if (!isExpected(error)) lines.push(...stackFrames(error));
  return lines;
}

function excerpt(value: unknown, redact: (text: string) => string): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return escapeForTerminal(redact(text), DETAIL_CHARS);
}
