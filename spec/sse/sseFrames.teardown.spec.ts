import { getEventListeners } from 'node:events';
import { Subject } from 'rxjs';
import { APIConnectionError } from '../../src/errors';
import { sseFrames } from '../../src/sse/sseFrames';
import type { ByteSink, PromiseTransport, Transport } from '../../src/transport/types';
import { chatData, sseHead, startServer, type TestServer } from '../helpers/server';
import { TRANSPORTS, record } from '../helpers/streams';
import { trackedScheduler } from '../helpers/timers';

const allTimeouts = { headersMs: 5000, firstEventMs: 5000, idleMs: 5000, totalMs: 10_000 };

/**
 * `transport`, with a promise that resolves once every request it was asked for has settled (answered or
 * failed): after that, and once the server saw each request's socket close, nothing can reach a subscriber.
 */
function settlingTransport(transport: PromiseTransport): { transport: PromiseTransport; allSettled(): Promise<unknown> } {
  const answers: Promise<unknown>[] = [];
  return {
    transport: (request) => {
      const answer = transport(request);
      answers.push(answer);
      return answer;
    },
    allSettled: () => Promise.allSettled(answers),
  };
}

/**
 * Subscribes, unsubscribes after `delayMs` (0: synchronously) and reports
 * whether anything reached the subscriber after it left.
 */
async function cancelAfter(source: ReturnType<typeof sseFrames>, delayMs: number): Promise<string[]> {
  const late: string[] = [];
  let left = false;
  const subscription = source.subscribe({
    next: () => left && late.push('next'),
    error: (error: unknown) => (left ? late.push(`error ${String(error)}`) : undefined),
    complete: () => left && late.push('complete'),
  });
  if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
  left = true;
  subscription.unsubscribe();
  return late;
}

describe.each(TRANSPORTS)('sseFrames over %s: teardown', (_name, transport) => {
  let server: TestServer;
  afterEach(() => server?.close());

  // Jest 30 fails the running test on any unhandled rejection, so these cycles also prove that the abort
  // rejections of undici and fetch (and late errors of every phase) are swallowed.
  test('cancelling in every phase delivers nothing afterwards and leaves no rejection, timer or listener', async () => {
    server = await startServer((req, res) => {
      if (req.url === '/no-answer') return;
      if (req.url === '/slow-error') {
        res.writeHead(500, { 'content-type': 'text/html' });
        res.write('<html>');
        const interval = setInterval(() => res.write('<p>still failing</p>'), 5);
        res.on('close', () => clearInterval(interval));
        return;
      }
      if (req.url === '/reset') {
        sseHead(res);
        res.write(chatData('x'));
        setTimeout(() => res.socket?.destroy(), 3);
        return;
      }
      sseHead(res);
      const interval = setInterval(() => res.write(chatData('tick')), 2);
      res.on('close', () => clearInterval(interval));
    });
    const refused = await startServer(() => undefined);
    const refusedUrl = refused.url;
    await refused.close();

    const timers = trackedScheduler();
    const signal = new AbortController().signal;
    const settling = settlingTransport(transport);
    const late: string[] = [];
    const urls = ['/no-answer', '/slow-error', '/reset', '/stream'].map((path) => server.url + path).concat(`${refusedUrl}/refused`);
    for (let round = 0; round < 8; round++) {
      await Promise.all(
        urls.flatMap((url) =>
          [0, 1, 3, 8, 15].map(async (delayMs) =>
            late.push(
              ...(await cancelAfter(sseFrames({ transport: settling.transport, url, signal, timeout: allTimeouts, scheduler: timers }), delayMs)),
            ),
          ),
        ),
      );
    }
    // Every answer settled and every connection closed: no response, chunk or error is left to arrive.
    await settling.allSettled();
    await server.requestSocketsClosed();
    expect(late).toEqual([]);
    expect(timers.started()).toBeGreaterThan(0);
    expect(timers.live()).toBe(0);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  test('a head callback that throws ends the stream with its error and closes the socket', async () => {
    server = await startServer((_req, res) => {
      sseHead(res);
      res.write(chatData('a'));
    });
    const thrown = new Error('bad callback');
    const recording = record(
      sseFrames({
        transport,
        url: server.url,
        head: () => {
          throw thrown;
        },
      }),
    );
    await recording.done;
    expect(recording.error).toBe(thrown);
    expect(recording.values).toEqual([]);
    await server.requestSocketsClosed();
  });
});

describe('sseFrames with a misbehaving transport', () => {
  test('a transport that throws synchronously gives an APIConnectionError and leaves no timer or listener', async () => {
    const timers = trackedScheduler();
    const signal = new AbortController().signal;
    const failing: Transport = () => {
      throw new Error('no network stack');
    };
    const recording = record(sseFrames({ transport: failing, url: 'http://127.0.0.1:9/x', signal, timeout: allTimeouts }));
    await recording.done;
    expect(recording.error).toBeInstanceOf(APIConnectionError);
    expect((recording.error as Error).message).toContain('no network stack');
    expect(timers.live()).toBe(0);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  test('a body that keeps pushing after cancel, and rejections after teardown, reach nobody', async () => {
    let sink: ByteSink | undefined;
    let reading!: () => void;
    const read = new Promise<void>((resolve) => (reading = resolve));
    let cancelled = 0;
    const response = new Subject<void>();
    const transport: Transport = () =>
      new Promise((resolve) =>
        response.subscribe(() =>
          resolve({
            status: 200,
            headers: { 'content-type': 'text/event-stream' },
            body: {
              read(target) {
                sink = target;
                reading();
              },
              pause: () => undefined,
              resume: () => undefined,
              cancel: () => cancelled++,
            },
          }),
        ),
      );
    const recording = record(sseFrames({ transport, url: 'http://127.0.0.1:9/x' }));
    response.next();
    await read;
    sink!.data(new TextEncoder().encode('data: 1\n\n'));
    recording.subscription.unsubscribe();
    expect(cancelled).toBe(1);
    sink!.data(new TextEncoder().encode('data: 2\n\n'));
    sink!.error(new Error('late'));
    sink!.end();

    const rejection = Promise.reject(new Error('after teardown'));
    const second = record(sseFrames({ transport: () => rejection, url: 'http://127.0.0.1:9/x' }));
    second.subscription.unsubscribe();
    // sseFrames subscribed to the rejection first: its handler has run once this one has.
    await rejection.catch(() => undefined);
    expect(recording.values).toEqual([{ type: 'event', data: '1' }]);
    expect(recording.errored || recording.completed || second.errored || second.completed).toBe(false);
  });
});
