import { randomBytes } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { MockRequest, MockUpstream } from '../../src/testing/index.node';
import { watchChanges } from '../helpers/changes';
import { listeningUrl, startCli, type CliProcess } from '../cli/cliProcess';

/*
 * Relay instances for the multi-instance specs: `openai-rx relay --redis` as processes of their own, or a relay
 * served in-process with its connections counted; and HTTP exchanges read as they arrive.
 */

/** The Redis store's default lease: how long readers elsewhere trust an owner that stopped answering. */
export const LEASE_MS = 3000;
/** Slack on a loaded two-core machine for what must happen within a deadline. */
export const MARGIN_MS = 1500;

/** A prompt no other request of the run has: it names the request in the mock upstream's records. */
export const tagged = (directives: string): string => `ask ${randomBytes(6).toString('hex')} ${directives}`;

export const chatParams = (prompt: string) => ({ model: 'mock', messages: [{ role: 'user' as const, content: prompt }] });

/** The mock upstream's record of the request asked with `prompt`, once it arrived. */
export async function upstreamRequest(upstream: MockUpstream, prompt: string): Promise<MockRequest> {
  await upstream.waitFor(() => upstream.requests.some((request) => request.prompt === prompt), 10_000);
  return upstream.requests.find((request) => request.prompt === prompt) as MockRequest;
}

/** Resolves once the upstream request was aborted (its socket closed by the relay). */
export const aborted = (upstream: MockUpstream, request: MockRequest, timeoutMs = 10_000): Promise<void> =>
  upstream.waitFor(() => request.state === 'aborted', timeoutMs);

/** Starts a long generation on `owner`; resolves once its first `events` events arrived, with its stream id. */
export async function generate(owner: { url: string }, prompt: string, events = 2): Promise<{ original: LiveResponse; id: string }> {
  const original = await openLive(`${owner.url}/v1/chat/completions`, { body: chatBody(prompt) });
  if (original.status !== 200) throw new Error(`the generation was answered ${original.status}: ${original.text()}`);
  await original.waitFor(`id: ${events}\n`);
  return { original, id: String(original.headers['x-stream-id']) };
}

/** A relay instance running as a process of its own. */
export interface RelayProcess {
  process: CliProcess;
  /** `http://127.0.0.1:<port>` */
  url: string;
}

/** `openai-rx relay --redis <redisUrl> --port 0 --upstream <upstream>`, once it listens. */
export async function startRelayProcess(redisUrl: string, upstreamBaseURL: string): Promise<RelayProcess> {
  const process = startCli(['relay', '--redis', redisUrl, '--port', '0', '--upstream', upstreamBaseURL]);
  await process.waitFor((stdout) => stdout.includes('listening on'), 'the relay to listen', 30_000);
  return { process, url: listeningUrl(process.stdout().toString()) };
}

/** An HTTP response read as it arrives. */
export interface LiveResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Everything received so far. */
  text(): string;
  /** Resolves once the received text contains `needle`. */
  waitFor(needle: string, timeoutMs?: number): Promise<void>;
  /** Resolves once the response ended cleanly, with `performance.now()` at its end; rejects after `timeoutMs`. */
  ended(timeoutMs?: number): Promise<number>;
  /** Destroys the connection, as a closed tab does. */
  abort(): void;
}

export interface LiveRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: unknown;
}

/** One request on a connection of its own; resolves with the response head, then reads the body as it comes. */
export function openLive(url: string, options: LiveRequest = {}): Promise<LiveResponse> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers = payload === undefined ? { ...options.headers } : { 'content-type': 'application/json', ...options.headers };
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? (payload === undefined ? 'GET' : 'POST'), headers, agent: false }, (res) => {
      let text = '';
      let endedAt: number | undefined;
      const changes = watchChanges();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        changes.changed();
      });
      res.on('end', () => {
        endedAt = performance.now();
        changes.changed();
      });
      res.on('error', () => undefined);
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        text: () => text,
        waitFor: (needle, timeoutMs) => changes.until(() => text.includes(needle), `'${needle}' in the response`, timeoutMs),
        ended: async (timeoutMs) => {
          await changes.until(() => endedAt !== undefined, `the end of the response from ${url}`, timeoutMs);
          return endedAt as number;
        },
        abort: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** The events of an event stream's text. */
export function sseEvents(text: string): EventSourceMessage[] {
  const events: EventSourceMessage[] = [];
  createParser({ onEvent: (event) => events.push(event) }).feed(text);
  return events;
}

/** Event ids and data, comments (heartbeats) left out. */
export const eventsOf = (text: string): Array<[string | undefined, string]> => sseEvents(text).map((event) => [event.id, event.data]);

/** The `error.code` of every error frame in an event stream's text. */
export function errorCodes(text: string): string[] {
  return sseEvents(text).flatMap((event) => {
    if (!event.data.startsWith('{"error"')) return [];
    return [String((JSON.parse(event.data) as { error: { code?: unknown } }).error.code)];
  });
}

/** A streamed chat request; `prompt` also names the request in the mock upstream's records. */
export function chatBody(prompt: string): { model: string; stream: true; messages: Array<{ role: 'user'; content: string }> } {
  return { model: 'mock', stream: true, messages: [{ role: 'user', content: prompt }] };
}
