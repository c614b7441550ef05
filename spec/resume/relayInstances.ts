import { randomBytes } from 'node:crypto';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { MockRequest, MockUpstream } from '../../src/testing/index.node';
import { openResponse, type OpenStream } from '../relay/relayHelpers';
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
export async function generate(owner: { url: string }, prompt: string, events = 2): Promise<{ original: OpenStream; id: string }> {
  const original = await openResponse(`${owner.url}/v1/chat/completions`, { body: chatBody(prompt) });
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
