import { once } from 'node:events';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { createFetchRelay, type RelaySummary } from '../../src/index.node';
import { createRelay } from '../../src/node';
import { watchChanges, watchedList } from '../helpers/changes';
import { pauseWatchingTransport } from '../helpers/transportSpies';
import { sseHead, startServer, type TestServer } from '../helpers/server';
import { CHAT_BODY, listen, type Listening } from './relayHelpers';

/*
 * A client that stops reading must stop the relay reading upstream: the
 * provider's writes block, the relay's own buffer stays small, and once the
 * client reads again every byte arrives, in order.
 */

const KEY = 'sk-relay-secret-0123456789';
const PAD = 'x'.repeat(8 * 1024);
const FRAMES = 4096;
const frameText = (i: number) => `data: {"i":${i},"pad":"${PAD}"}\n\n`;
const EXPECTED = Buffer.from(Array.from({ length: FRAMES }, (_, i) => frameText(i)).join('') + 'data: [DONE]\n\n');
const MiB = 1024 * 1024;

/** What the provider observes: how far it got, and whether its socket is full. */
interface ProviderProgress {
  written: number;
  blocked: boolean;
}

let upstream: TestServer;
let progress: ProviderProgress;
/** Told when the provider blocks and when the relay pauses its reading of upstream. */
let changes = watchChanges();
let upstreamPaused = false;

/** The relay's transport, telling when the relay pauses or resumes reading the upstream body. */
const watchingTransport = pauseWatchingTransport((value) => {
  upstreamPaused = value;
  changes.changed();
});

beforeEach(async () => {
  progress = { written: 0, blocked: false };
  changes = watchChanges();
  upstreamPaused = false;
  upstream = await startServer(async (_req, res) => {
    const closed = new AbortController();
    res.on('close', () => closed.abort());
    sseHead(res);
    for (let i = 0; i < FRAMES && !res.destroyed; i++) {
      const text = frameText(i);
      progress.written += Buffer.byteLength(text);
      if (!res.write(text)) {
        progress.blocked = true;
        changes.changed();
        await once(res, 'drain', { signal: closed.signal }).catch(() => undefined);
        progress.blocked = false;
      }
    }
    res.end('data: [DONE]\n\n');
  });
});

afterEach(() => upstream.close());

/** Resolves with how far the provider got once the relay paused reading upstream and the provider blocked on a full socket. */
async function providerStalls(): Promise<number> {
  await changes.until(() => upstreamPaused && progress.blocked, 'the relay to pause upstream and the provider to block', 15_000);
  return progress.written;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('node relay: a client that stops reading pauses upstream; relay memory stays bounded; every byte arrives', async () => {
  let relayResponse: ServerResponse | undefined;
  let maxRelayBuffered = 0;
  const summaries = watchedList<RelaySummary<IncomingMessage>>();
  const handler = createRelay({ apiKey: KEY, baseURL: upstream.url, transport: watchingTransport, onSettled: (s) => summaries.push(s) });
  const relay: Listening = await listen((req, res) => {
    relayResponse = res;
    handler(req, res);
  });
  const sample = setInterval(() => {
    maxRelayBuffered = Math.max(maxRelayBuffered, relayResponse?.writableLength ?? 0);
  }, 5);
  try {
    const received: Buffer[] = [];
    let receivedBytes = 0;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(`${relay.url}/v1/chat/completions`, { method: 'POST', agent: false }, resolve);
      req.on('error', reject);
      req.end(JSON.stringify(CHAT_BODY));
    });
    response.pause();

    // 1. The client reads nothing: the provider must block long before it wrote everything.
    const stalledAt = await providerStalls();
    expect(stalledAt).toBeLessThan(EXPECTED.byteLength / 2);

    // 2. The client reads 1 KB at a time for a while: the provider stays far behind the end.
    for (let i = 0; i < 100; i++) {
      const chunk = response.read(1024) as Buffer | null;
      if (chunk) {
        received.push(chunk);
        receivedBytes += chunk.byteLength;
      }
      await pause(5);
    }
    expect(progress.written).toBeLessThan(EXPECTED.byteLength / 2);

    // 3. The client reads at full speed: everything arrives, byte for byte.
    const done = new Promise<void>((resolve) => response.on('end', resolve));
    response.on('data', (chunk: Buffer) => {
      received.push(chunk);
      receivedBytes += chunk.byteLength;
    });
    response.resume();
    await done;
    expect(receivedBytes).toBe(EXPECTED.byteLength);
    expect(Buffer.concat(received).equals(EXPECTED)).toBe(true);
    expect(maxRelayBuffered).toBeLessThan(MiB);
    await summaries.reaches(1, 'the summary');
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ outcome: 'completed', frames: FRAMES + 1, bytes: EXPECTED.byteLength });
  } finally {
    clearInterval(sample);
    await relay.close();
  }
});

test('fetch relay: an unread response body pauses upstream; every byte arrives once it is read', async () => {
  const relay = createFetchRelay({ apiKey: KEY, baseURL: upstream.url, transport: watchingTransport });
  const response = await relay(
    new Request('http://relay.test/v1/chat/completions', { method: 'POST', body: JSON.stringify(CHAT_BODY) }),
  );
  const stalledAt = await providerStalls();
  expect(stalledAt).toBeLessThan(EXPECTED.byteLength / 2);

  const reader = response.body!.getReader();
  const received: Uint8Array[] = [];
  for (let i = 0; i < 20; i++) {
    const { value } = await reader.read();
    if (value) received.push(value);
    await pause(5);
  }
  expect(progress.written).toBeLessThan(EXPECTED.byteLength / 2);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received.push(value);
  }
  expect(Buffer.concat(received).equals(EXPECTED)).toBe(true);
});
