import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RelaySummary } from '../relay/types.js';
import { createRelay } from '../relay/createRelay.js';
import { listenHttp, type RunningServer } from './httpServer.js';
import type { CliOutput } from './io.js';
import type { Upstream } from './upstream.js';

export interface RelayServerOptions {
  port: number;
  host: string;
  upstream: Upstream;
  output: CliOutput;
  /** Answers the requests that are not the relay's (a page); returns `false` for those it leaves to the relay. */
  pages?: (req: IncomingMessage, res: ServerResponse) => boolean;
  verbose?: boolean;
}

/** The node:http relay (`/v1/...`) on its own server, logging one line per request to stderr. */
export function startRelayServer(options: RelayServerOptions): Promise<RunningServer> {
  const { output } = options;
  const relay = createRelay({
    apiKey: options.upstream.apiKey,
    baseURL: options.upstream.baseURL,
    onSettled: (summary) => output.err(settledLine(summary)),
    onError: (error) => {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      output.err(`relay error: ${message}`);
      if (options.verbose && error instanceof Error && error.stack) output.err(error.stack);
    },
  });
  return listenHttp(
    (req, res) => {
      if (options.pages?.(req, res)) return;
      relay(req, res);
    },
    options.port,
    options.host,
  );
}

/** `POST /v1/chat/completions · gpt-4o-mini · 200 completed · 46 frames · 1.21 s · req_123` */
export function settledLine(summary: RelaySummary<IncomingMessage>): string {
  const parts = [
    `${summary.request.method ?? '?'} ${summary.request.url ?? '/'}`,
    summary.model,
    `${summary.status} ${summary.outcome}`,
    summary.stream ? `${summary.frames} frames` : `${summary.bytes} bytes`,
    summary.durationMs < 1000 ? `${Math.round(summary.durationMs)} ms` : `${(summary.durationMs / 1000).toFixed(2)} s`,
    summary.requestId,
    summary.error && summary.outcome !== 'client-closed' ? summary.error.message : undefined,
  ];
  return parts.filter((part) => part !== undefined && part !== '').join(' · ');
}
