import type { Subscription } from 'rxjs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildClient } from '../../src/client';
import type { ByteSink, PromiseTransport } from '../../src/transport/types';

/*
 * What an open stream keeps on the heap, counted rather than timed: a process serving many streams at once holds
 * one of these per stream (issue 16: 500 streams at the floor's peak RSS). The transport here is an in-memory
 * one, so the figure is openai-rx's own (request, SSE source, decoder, parser, Rx chain), not undici's socket.
 * Measured: 8.1–8.2 KB per chat stream and 6.6–6.8 KB per raw one on Node 20, 7.4 and 5.9 KB on Node 24. Before
 * the stream request became one literal, the client shared its redactor and parsers and the decoder its closures:
 * 9.8 KB and 7.9 KB, which these budgets reject.
 */

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const STREAMS = 2000;
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
  for (let turn = 0; turn < 1000 && sinks.length < count; turn++) await new Promise((resolve) => setImmediate(resolve));
  expect(sinks).toHaveLength(count);
}
const heapAfterGc = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

/** Heap bytes per open stream of `open`, after each delivered its first value. */
async function bytesPerOpenStream(open: (client: ReturnType<typeof buildClient>) => Subscription): Promise<number> {
  const sinks: ByteSink[] = [];
  const client = buildClient({ baseURL: 'http://127.0.0.1:1/v1', apiKey: 'sk-footprint', transport: openBodies(sinks) });
  const subscriptions: Subscription[] = [];
  const openMany = async (count: number) => {
    for (let index = 0; index < count; index++) subscriptions.push(open(client));
    await allReading(sinks, subscriptions.length);
  };
  await openMany(200);
  const before = heapAfterGc();
  await openMany(STREAMS);
  const after = heapAfterGc();
  for (const subscription of subscriptions) subscription.unsubscribe();
  return (after - before) / STREAMS;
}

const params = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }] };

test('an open chat stream (validated chunks) keeps less than 9 KB on the heap', async () => {
  let delivered = 0;
  const perStream = await bytesPerOpenStream((client) => client.chat.completions.stream(params).subscribe(() => delivered++));

  expect(delivered).toBe(STREAMS + 200);
  expect(perStream).toBeLessThan(9 * 1024);
});

test('an open raw-frame stream keeps less than 7.5 KB on the heap', async () => {
  let delivered = 0;
  const perStream = await bytesPerOpenStream((client) => client.chat.completions.events(params).subscribe(() => delivered++));

  expect(delivered).toBe(STREAMS + 200);
  expect(perStream).toBeLessThan(7.5 * 1024);
});
