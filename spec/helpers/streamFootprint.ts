import type { Subscription } from 'rxjs';
import { buildClient } from '../../src/client';
import type { ByteSink, PromiseTransport } from '../../src/transport/types';
import { heapPerOpened, nextTurn, runProbe } from './heapCount';

/*
 * Heap bytes per open stream, counted in a process of its own: spec/openai/streamFootprint.spec.ts bundles this file
 * and runs `node --expose-gc streamFootprint.cjs chat|raw`, which prints `{ delivered, perStream }` as one JSON line.
 */

const STREAMS = 2000;
const WARM_UP = 200;
const CHUNK = new TextEncoder().encode(
  'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"tok"},"finish_reason":null}]}\n\n',
);

/** Each response delivers one chunk and stays open; `sinks` keeps the bodies alive as a socket would. */
function openBodies(sinks: ByteSink[]): PromiseTransport {
  return () =>
    Promise.resolve({
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: {
        read(sink) {
          sinks.push(sink);
          sink.data(CHUNK);
        },
        pause: () => undefined,
        resume: () => undefined,
        cancel: () => undefined,
      },
    });
}

/** Waits (a bounded number of event-loop turns) until every response body is being read. */
async function allReading(sinks: ByteSink[], count: number): Promise<void> {
  for (let turn = 0; turn < 1000 && sinks.length < count; turn++) await nextTurn();
  if (sinks.length !== count) throw new Error(`${sinks.length} of ${count} bodies are being read`);
}

type Client = ReturnType<typeof buildClient>;
const params = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }] };
const kinds: Record<string, (client: Client, onValue: () => void) => Subscription> = {
  chat: (client, onValue) => client.chat.completions.stream(params).subscribe(onValue),
  raw: (client, onValue) => client.chat.completions.events(params).subscribe(onValue),
};

/** Heap bytes per open stream of `kind`, after each delivered its first value. */
async function measure(kind: string, gc: () => void): Promise<{ delivered: number; perStream: number }> {
  const open = kinds[kind];
  if (!open) throw new Error(`unknown kind ${kind}`);
  const sinks: ByteSink[] = [];
  const client = buildClient({ baseURL: 'http://127.0.0.1:1/v1', apiKey: 'sk-footprint', transport: openBodies(sinks) });
  const subscriptions: Subscription[] = [];
  let delivered = 0;
  const openMany = async (count: number) => {
    for (let index = 0; index < count; index++) subscriptions.push(open(client, () => delivered++));
    await allReading(sinks, subscriptions.length);
  };
  const perStream = await heapPerOpened(openMany, WARM_UP, STREAMS, gc);
  for (const subscription of subscriptions) subscription.unsubscribe();
  return { delivered: delivered - WARM_UP, perStream };
}

runProbe((gc) => measure(process.argv[2] ?? '', gc));
