import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Subscription } from 'rxjs';
import { createClient, createFetchRelay, type Telemetry } from '../../src/index.node';
import { createRelay } from '../../src/node';
import { listen, openStream, type Listening } from '../relay/relayHelpers';
import { serveFetch } from './serveFetch';
import { chatData } from './server';
import { runProbe, settledMemory } from './heapCount';

/*
 * What an open stream keeps of a large request body, counted in a process of its own:
 * spec/requestBodyFootprint.spec.ts bundles this file and runs
 * `node --expose-gc requestBodyFootprint.cjs client[-telemetry|-resume]|createRelay[-resume]|createFetchRelay[-resume]`,
 * which prints `{ promptBytes, heapPerStream, arrayBuffersPerStream }` as one JSON line.
 * Everything is real: an upstream on node:http that sends one chunk and holds the stream open, the relay in front of
 * it, and undici or node:http as the client. Each stream's prompt is its own string, which its caller drops.
 */

const PROMPT_BYTES = 512 * 1024;
const STREAMS = 12;
const WARM_UP = 2;

const prompt = (index: number) => `${index}:`.padEnd(PROMPT_BYTES, 'x');
const chatBody = (index: number) => ({ model: 'm', messages: [{ role: 'user' as const, content: prompt(index) }], stream: true });

/** An upstream that answers every request with one chunk and keeps the stream open, and keeps no body itself. */
async function holdingUpstream(): Promise<{ url: string; answered: () => number; close: () => void }> {
  let answered = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chatData('tok'));
      answered++;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () => {
    server.closeAllConnections();
    server.close();
  };
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, answered: () => answered, close };
}

/** Opens stream `index` and resolves once its first chunk arrived; `close` ends every stream it opened. */
interface Opener {
  open(index: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * `-telemetry`: with a telemetry that records nothing, which puts its taps around the stream. `-resume`: with
 * `resume: true`, whose stream can re-attach for as long as it is open (to this upstream, which gives no stream id,
 * it never does).
 */
function clientOpener(kind: string, baseURL: string): Opener {
  const telemetry: Telemetry | undefined = kind.endsWith('telemetry') ? { startOperation: () => ({ frame: () => undefined, response: () => undefined, end: () => undefined }) } : undefined;
  const client = createClient({ baseURL, apiKey: 'sk-footprint-key', telemetry });
  const request = kind.endsWith('resume') ? { resume: true } : undefined;
  const subscriptions: Subscription[] = [];
  return {
    open: (index) =>
      new Promise((resolve, reject) => {
        subscriptions.push(client.chat.completions.stream(chatBody(index), request).subscribe({ next: () => resolve(), error: reject }));
      }),
    close: async () => subscriptions.forEach((subscription) => subscription.unsubscribe()),
  };
}

async function relayOpener(kind: string, baseURL: string): Promise<Opener> {
  const options = { baseURL, apiKey: 'sk-footprint-key', resume: kind.endsWith('resume') };
  const relay: Listening = await listen(kind.startsWith('createRelay') ? createRelay(options) : serveFetch(createFetchRelay(options)));
  return {
    // Each request stays open with its socket: nothing here needs to hold it.
    async open(index) {
      const stream = await openStream(`${relay.url}/v1/chat/completions`, chatBody(index));
      await stream.waitFor('data:');
    },
    close: () => relay.close(),
  };
}

async function measure(kind: string, gc: () => void) {
  const upstream = await holdingUpstream();
  const opener = kind.startsWith('client') ? clientOpener(kind, upstream.url) : await relayOpener(kind, upstream.url);
  for (let index = 0; index < WARM_UP; index++) await opener.open(index);
  const before = await settledMemory(gc);
  for (let index = WARM_UP; index < WARM_UP + STREAMS; index++) await opener.open(index);
  const after = await settledMemory(gc);
  const answered = upstream.answered();
  await opener.close();
  upstream.close();
  if (answered !== WARM_UP + STREAMS) throw new Error(`${answered} streams reached the upstream`);
  return {
    promptBytes: PROMPT_BYTES,
    heapPerStream: (after.heapUsed - before.heapUsed) / STREAMS,
    arrayBuffersPerStream: (after.arrayBuffers - before.arrayBuffers) / STREAMS,
  };
}

runProbe((gc) => measure(process.argv[2] ?? '', gc));
