import { readdirSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import express from 'express';
import { APIError, createClient, type RelaySummary } from '../../src/index.node';
import { createRelay, type NodeRelayOptions } from '../../src/node';
import { chatData, sseHead, startServer, type Handler, type TestServer } from '../helpers/server';
import { CHAT_BODY, listen, rawRequest, type Listening } from './relayHelpers';

const KEY = 'sk-relay-secret-0123456789';

let upstream: TestServer | undefined;
let relay: Listening | undefined;
let summaries: Summaries;

beforeEach(() => {
  summaries = collectSummaries();
});

afterEach(async () => {
  await relay?.close();
  await upstream?.close();
  relay = upstream = undefined;
});

/** onSettled's summaries, and a promise for the moment `count` of them have arrived. */
interface Summaries {
  all: RelaySummary<IncomingMessage>[];
  push(summary: RelaySummary<IncomingMessage>): void;
  count(count: number): Promise<RelaySummary<IncomingMessage>[]>;
}

function collectSummaries(): Summaries {
  const all: RelaySummary<IncomingMessage>[] = [];
  const waiters: Array<() => void> = [];
  return {
    all,
    push(summary) {
      all.push(summary);
      for (const waiter of waiters.splice(0)) waiter();
    },
    count(count) {
      return new Promise((resolve) => {
        const check = () => (all.length >= count ? resolve(all) : waiters.push(check));
        check();
      });
    },
  };
}

async function start(handler: Handler, options: NodeRelayOptions = {}): Promise<{ upstream: TestServer; url: string }> {
  upstream = await startServer(handler);
  relay = await listen(createRelay({ apiKey: KEY, baseURL: upstream.url, onSettled: (summary) => summaries.push(summary), ...options }));
  return { upstream, url: relay.url };
}

/** JSON text of `[[[…]]]` `depth` levels deep around `inner`. */
function nested(depth: number, inner = '0'): string {
  return `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
}

/** Every uncaught exception while `run` runs: none may escape the relay. */
async function withoutUncaught<T>(run: () => Promise<T>): Promise<T> {
  const uncaught: unknown[] = [];
  const record = (error: unknown) => uncaught.push(error);
  process.on('uncaughtException', record);
  try {
    const result = await run();
    expect(uncaught).toEqual([]);
    return result;
  } finally {
    process.off('uncaughtException', record);
  }
}

describe('foreign JSON nested deeper than any real message', () => {
  test('an in-stream error frame nesting 4,400 arrays: relayed, reported once, redacted without overflowing', async () => {
    await withoutUncaught(async () => {
      const frame = `data: {"error":{"message":"boom ${KEY}","detail":${nested(4400)}}}\n\n`;
      const { url } = await start((_req, res) => {
        sseHead(res);
        res.write(chatData('Hi'));
        res.end(frame);
      });
      const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
      expect(response.status).toBe(200);
      expect(response.text).toContain('"message":"boom [redacted]"');
      const [summary] = await summaries.count(1);
      expect(summary.outcome).toBe('upstream-error');
      expect(summary.error).toBeInstanceOf(APIError);
      expect(summary.error?.message).toBe(`boom [redacted]`);
      // Kept as text, not as a value that JSON.stringify or a logger would overflow on.
      expect(JSON.stringify(summary)).not.toContain(KEY);
      expect(summaries.all).toHaveLength(1);
    });
  });

  test('an HTTP error body nesting 100,000 levels: the relay answers with an OpenAI-format error, the client gets an APIError', async () => {
    await withoutUncaught(async () => {
      const { url } = await start((_req, res) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(`{"error":${nested(100_000, `"${KEY}"`)}}`);
      });
      const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
      expect(response.status).toBe(500);
      expect(response.json()).toMatchObject({ error: { type: 'upstream_error' } });
      expect(response.text).not.toContain(KEY);
      const [summary] = await summaries.count(1);
      expect(summary).toMatchObject({ outcome: 'upstream-error', status: 500 });
      expect(JSON.stringify(summary)).not.toContain(KEY);

      const client = createClient({ apiKey: KEY, baseURL: upstream?.url });
      const error = await new Promise<unknown>((resolve) => client.chat.completions.events(CHAT_BODY).subscribe({ error: resolve }));
      expect(error).toBeInstanceOf(APIError);
      expect((error as APIError).status).toBe(500);
      expect(typeof (error as APIError).body).toBe('string');
      expect((error as APIError).message).not.toContain(KEY);
    });
  });

  test.each([4_000, 100_000])('a request whose messages nest %i levels deep is a 400, and nothing goes upstream', async (depth) => {
    const { upstream, url } = await start(() => undefined);
    const body = `{"model":"m","stream":true,"messages":[{"role":"user","content":${nested(depth)}}]}`;
    const response = await rawRequest(`${url}/v1/chat/completions`, { body });
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: 'request_too_deep', type: 'invalid_request_error' } });
    expect((await summaries.count(1))[0]).toMatchObject({ outcome: 'rejected', status: 400 });
    expect(upstream.requests).toHaveLength(0);
  });

  test('Express: a body parser that already parsed a deep body gets the same 400', async () => {
    upstream = await startServer(() => undefined);
    const app = express();
    app.use(express.json({ limit: '10mb' }));
    app.use(createRelay({ apiKey: KEY, baseURL: upstream.url, onSettled: (summary) => summaries.push(summary) }));
    relay = await listen(app);
    const body = `{"model":"m","messages":${nested(10_000)}}`;
    const response = await rawRequest(`${relay.url}/v1/chat/completions`, { body });
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: 'request_too_deep' } });
    expect(upstream.requests).toHaveLength(0);
  });
});

/** `count` chat requests written in one go on one connection (HTTP/1.1 pipelining). */
function pipeline(url: string, count: number): Promise<Socket> {
  return pipelineBody(url, Array<unknown>(count).fill(CHAT_BODY));
}

function pipelineBody(url: string, bodies: unknown[]): Promise<Socket> {
  const { port } = new URL(url);
  const requests = bodies.map((body) => {
    const text = JSON.stringify(body);
    return `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`;
  });
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(requests.join(''));
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

const openFds = () => readdirSync('/proc/self/fd').length;

/** A client that sends one request and reads nothing until `drained()`, which then resolves when the connection ends. */
async function silentClient(url: string, body: unknown): Promise<{ drained(): Promise<void> }> {
  const socket = await pipelineBody(url, [body]);
  socket.pause();
  return {
    drained() {
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.resume();
      return closed;
    },
  };
}

describe('pipelined requests, then the client leaves', () => {
  test.each([2, 300])('%i requests on one connection: one generation at a time, each settled once as client-closed', async (count) => {
    const fdsBefore = openFds();
    const { upstream, url } = await start((_req, res) => {
      sseHead(res);
      res.write(chatData('Hel'));
    });
    const socket = await pipeline(url, count);
    await upstream.waitForRequests(1);
    socket.destroy();
    const settled = await summaries.count(count);
    await upstream.waitForClosedSockets(1);
    expect(settled.map((summary) => summary.outcome)).toEqual(Array(count).fill('client-closed'));
    // Requests queued behind the first never reached upstream: one client cannot start many generations.
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.openSockets()).toBe(0);
    await relay?.close();
    await upstream.close();
    relay = undefined;
    expect(openFds()).toBeLessThanOrEqual(fdsBefore);
  });

  test('the queued request is relayed in its turn once the first one ended', async () => {
    const { upstream, url } = await start((_req, res) => {
      sseHead(res);
      res.end(`${chatData('Hi', 'stop')}data: [DONE]\n\n`);
    });
    const socket = await pipeline(url, 2);
    let received = '';
    await new Promise<void>((resolve) =>
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString();
        if (received.split('data: [DONE]').length === 3) resolve();
      }),
    );
    socket.destroy();
    const settled = await summaries.count(2);
    expect(settled.map((summary) => summary.outcome)).toEqual(['completed', 'completed']);
    expect(upstream.requests).toHaveLength(2);
  });
});

describe('a client that stops reading', () => {
  test('a stream it never reads is dropped after stalledClientMs and its upstream request aborted', async () => {
    const piece = chatData('x'.repeat(16 * 1024));
    const { upstream, url } = await start(
      (_req, res) => {
        sseHead(res);
        // Writes until the relay stops reading (backpressure), then waits for drain: an endless answer.
        const pump = () => {
          while (res.write(piece));
          res.once('drain', pump);
        };
        pump();
      },
      { stalledClientMs: 200 },
    );
    const stream = await silentClient(url, CHAT_BODY);
    const [summary] = await summaries.count(1);
    expect(summary).toMatchObject({ outcome: 'client-stalled', status: 200 });
    expect(summary.error?.message).toMatch(/took none of the response for 200 ms/);
    await upstream.waitForClosedSockets(1);
    await stream.drained();
  });

  test('a large JSON answer it never reads is dropped after stalledClientMs', async () => {
    const big = JSON.stringify({ id: 'x', object: 'chat.completion', text: 'y'.repeat(15 * 1024 * 1024) });
    const { url } = await start(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(big);
      },
      { stalledClientMs: 200 },
    );
    const stream = await silentClient(url, { ...CHAT_BODY, stream: false });
    const [summary] = await summaries.count(1);
    expect(summary).toMatchObject({ outcome: 'client-stalled', status: 200, stream: false });
    await stream.drained();
  });

  test('a client that reads slowly but steadily gets the whole large JSON answer', async () => {
    const big = JSON.stringify({ id: 'x', object: 'chat.completion', text: 'y'.repeat(2 * 1024 * 1024) });
    const { url } = await start(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(big);
      },
      { stalledClientMs: 5_000 },
    );
    const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify({ ...CHAT_BODY, stream: false }) });
    expect(response.text).toBe(big);
    expect(response.headers['content-length']).toBe(String(Buffer.byteLength(big)));
    expect((await summaries.count(1))[0]).toMatchObject({ outcome: 'completed' });
  });
});

describe('outcomes say what happened', () => {
  test('a 200 stream cut cleanly in the middle of an event is passed on as it came and is truncated, not rejected', async () => {
    const cut = 'data: {"id":"chatcmpl-1","choi';
    const { url } = await start((_req, res) => {
      sseHead(res);
      res.write(chatData('Hel'));
      res.end(cut);
    });
    const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
    // What a direct connection would have seen: the client's own parser reports the cut.
    expect(response.text).toBe(`${chatData('Hel')}${cut}`);
    expect((await summaries.count(1))[0]).toMatchObject({ outcome: 'truncated', status: 200 });
  });
});
