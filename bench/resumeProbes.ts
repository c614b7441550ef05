import { request, type IncomingMessage } from 'node:http';
import { changeWaiters } from '../src/testing/changeWaiters.js';
import { requestBody, type UpstreamPlan } from './protocol.js';

/*
 * The resume scenario's own HTTP exchanges with a relay in resume mode, from the runner process: plain node:http,
 * a connection of its own each (what a reload or a network switch opens), every wait bounded.
 */

const WAIT_MS = 10_000;

/** A response read as it arrives. */
export interface SseResponse {
  status: number;
  headers: IncomingMessage['headers'];
  text(): string;
  /** Resolves once `holds(text)`; rejects after {@link WAIT_MS} or when the response ends first. */
  until(holds: (text: string) => boolean, what: string): Promise<void>;
  /** Resolves with the whole text once the response ended. */
  ended(): Promise<string>;
  /** Destroys the connection, as a closed tab does. */
  drop(): void;
}

export function openSse(url: string, options: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: unknown } = {}): Promise<SseResponse> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers = { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers };
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers, agent: false }, (res) => {
      let text = '';
      let done = false;
      const changes = changeWaiters();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        changes.changed();
      });
      res.on('close', () => {
        done = true;
        changes.changed();
      });
      res.on('error', () => undefined);
      const until = (holds: (text: string) => boolean, what: string) =>
        changes.until(
          () => {
            if (holds(text)) return true;
            if (done) throw new Error(`the response ended before ${what} (${url}): ${text.slice(-300)}`);
            return false;
          },
          WAIT_MS,
          () => new Error(`${what} did not happen within ${WAIT_MS} ms (${url})`),
        );
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        text: () => text,
        until,
        ended: async () => {
          await until(() => done, 'the end of the response');
          return text;
        },
        drop: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** The id line of event `n`, as resume mode writes it. */
export const idLine = (n: number) => `\nid: ${n}\n`;

/** A streamed chat request through the relay at `baseURL`, once its head arrived; its `x-stream-id` beside it. */
export async function startStream(baseURL: string, plan: UpstreamPlan, runId: string): Promise<{ response: SseResponse; streamId: string }> {
  const response = await openSse(`${baseURL}/chat/completions`, { method: 'POST', body: requestBody({ bench: plan, runId }) });
  const streamId = response.headers['x-stream-id'];
  if (response.status !== 200 || typeof streamId !== 'string') throw new Error(`no resumable stream: ${response.status} ${response.text().slice(0, 300)}`);
  return { response, streamId };
}

/**
 * `GET …/streams/{id}` with `Last-Event-ID: after`: the time from sending it to the arrival of the first event's id
 * line, and that event's number (after + 1 when the relay is right). The connection is dropped then.
 */
export async function reattach(baseURL: string, streamId: string, after: number): Promise<{ ms: number; firstEvent: number }> {
  const startedAt = performance.now();
  const response = await openSse(`${baseURL}/streams/${streamId}`, { headers: { 'last-event-id': String(after) } });
  const firstId = /\nid: (\d+)\n/;
  await response.until((text) => firstId.test(text), 'the first missed event');
  const ms = performance.now() - startedAt;
  response.drop();
  return { ms, firstEvent: Number(firstId.exec(response.text())?.[1]) };
}

/** `POST …/streams/{id}/cancel`: its status. */
export async function cancelStream(baseURL: string, streamId: string): Promise<number> {
  const response = await openSse(`${baseURL}/streams/${streamId}/cancel`, { method: 'POST' });
  await response.ended();
  return response.status;
}
