import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RelayCorsOption } from '../relay/cors.js';
import type { RelayResumeOptions, RelaySummary } from '../relay/types.js';
import { createRelay } from '../relay/createRelay.js';
import type { StreamTimeouts } from '../sse/types.js';
import type { Telemetry } from '../telemetry/types.js';
import { stackFrames } from './errorReport.js';
import { escapeForTerminal } from './escapeForTerminal.js';
import { listenHttp, type HttpServerLimits, type RunningServer } from './httpServer.js';
import type { CliOutput } from './io.js';
import type { Upstream } from './upstream.js';
import { transportWithoutUndiciLimits } from './upstreamTimeouts.js';

export interface RelayServerOptions {
  port: number;
  host: string;
  upstream: Upstream;
  output: CliOutput;
  /** Answers the requests that are not the relay's (a page); returns `false` for those it leaves to the relay. */
  pages?: (req: IncomingMessage, res: ServerResponse) => boolean;
  verbose?: boolean;
  /** Slow-client limits; `listenHttp`'s defaults for those not given. */
  limits?: Partial<HttpServerLimits>;
  /** Browser origins allowed to call the relay (`--cors`); default none. */
  cors?: RelayCorsOption<IncomingMessage>;
  /** Records the relayed requests (`--metrics-port`). */
  telemetry?: Telemetry;
  /** Resume mode (`--resume`, `--redis`); default off. */
  resume?: RelayResumeOptions<IncomingMessage> | boolean;
  /** Upstream timeouts (`--timeout`); default none. */
  timeout?: StreamTimeouts;
}

/** The node:http relay (`/v1/...`) on its own server, logging one line per request to stderr. */
export function startRelayServer(options: RelayServerOptions): Promise<RunningServer> {
  const { output } = options;
  const relay = createRelay({
    apiKey: options.upstream.apiKey,
    baseURL: options.upstream.baseURL,
    cors: options.cors,
    telemetry: options.telemetry,
    resume: options.resume,
    timeout: options.timeout,
    transport: transportWithoutUndiciLimits(),
    onSettled: (summary) => output.err(settledLine(summary, (text, maxChars) => output.printable(text, maxChars))),
    onError: (error) => {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      output.err(`relay error: ${message}`);
      if (options.verbose) for (const frame of stackFrames(error)) output.err(frame);
    },
  });
  return listenHttp(
    (req, res) => {
      if (options.pages?.(req, res)) return;
      relay(req, res);
    },
    options.port,
    options.host,
    options.limits,
  );
}

/** Bounds, in characters, of the foreign fields of a log line: a long URL or message cannot push the rest out. */
const FIELD_CHARS = { method: 20, url: 300, model: 100, requestId: 100, error: 500 } as const;

/**
 * `POST /v1/chat/completions · gpt-4o-mini · 200 completed · 46 frames · 1.21 s · req_123`.
 * Every field the client or the upstream chose goes through `printable`: escaped, bounded, secrets removed.
 */
export function settledLine(
  summary: RelaySummary<IncomingMessage>,
  printable: (text: string, maxChars: number) => string = escapeForTerminal,
): string {
  const field = (text: string | undefined, name: keyof typeof FIELD_CHARS) => (text === undefined ? undefined : printable(text, FIELD_CHARS[name]));
  const parts = [
    `${field(summary.request.method ?? '?', 'method')} ${field(withoutStreamIds(summary.request.url ?? '/'), 'url')}`,
    field(summary.model, 'model'),
    `${summary.status} ${summary.outcome}`,
    summary.stream ? `${summary.frames} frames` : `${summary.bytes} bytes`,
    summary.durationMs < 1000 ? `${Math.round(summary.durationMs)} ms` : `${(summary.durationMs / 1000).toFixed(2)} s`,
    field(summary.requestId, 'requestId'),
    summary.error && summary.outcome !== 'client-closed' ? field(summary.error.message, 'error') : undefined,
  ];
  return parts.filter((part) => part !== undefined && part !== '').join(' · ');
}

/** A stream id is a capability: the log shows its first six characters, enough to tell streams apart. */
export function withoutStreamIds(url: string): string {
  return url.replace(/\/streams\/([^/?#]{0,6})[^/?#]*/g, '/streams/$1…');
}
