import { getEventListeners } from 'node:events';
import type { ServerResponse } from 'node:http';
import { Subject, firstValueFrom, lastValueFrom, switchMap, take, takeUntil, toArray } from 'rxjs';
import { StreamAbortError } from '../../src/errors';
import { sseFrames } from '../../src/sse/sseFrames';
import type { SseFrame } from '../../src/sse/types';
import { chatData, sseHead, startServer, type TestServer } from '../helpers/server';
import { TRANSPORTS, callCountingTransport, chunkRecordingTransport, record } from '../helpers/streams';
import { trackedScheduler } from '../helpers/timers';

/** Streams chat chunks every 5 ms until the client goes away (at most 2,000, then ends). */
function endlessStream(_req: unknown, res: ServerResponse): void {
  sseHead(res);
  let sent = 0;
  const interval = setInterval(() => {
    res.write(chatData(`t${sent}`));
    if (++sent >= 2000) {
      clearInterval(interval);
      res.end('data: [DONE]\n\n');
    }
  }, 5);
  res.on('close', () => clearInterval(interval));
}

describe.each(TRANSPORTS)('sseFrames over %s: cold and cancellable', (_name, transport) => {
  let server: TestServer;
  afterEach(() => server?.close());

  const framesFrom = (path = '/stream', signal?: AbortSignal, through = transport) =>
    sseFrames({ transport: through, url: server.url + path, method: 'POST', body: '{}', signal });

  /** The server saw every socket that carried a request close. */
  const socketsClosed = () => server.requestSocketsClosed();

  test('nothing reaches the server before subscribe; each subscription sends its own request', async () => {
    server = await startServer((_req, res) => {
      sseHead(res);
      res.end(`${chatData('a', 'stop')}data: [DONE]\n\n`);
    });
    const counting = callCountingTransport(transport);
    const frames$ = framesFrom('/stream', undefined, counting.transport);
    // Nothing was asked of the transport, the only way to the network; two subscriptions later it was asked twice.
    expect(counting.calls()).toBe(0);

    const [first, second] = await Promise.all([lastValueFrom(frames$.pipe(toArray())), lastValueFrom(frames$.pipe(toArray()))]);
    expect(counting.calls()).toBe(2);
    expect(server.requests).toHaveLength(2);
    expect(first).toEqual(second);
    expect(first).toHaveLength(2);
  });

  test('unsubscribing inside the first next delivers nothing more, even from the same network read', async () => {
    let closedByClient: () => void;
    const responseClosed = new Promise<void>((resolve) => (closedByClient = resolve));
    server = await startServer((_req, res) => {
      sseHead(res);
      let events = '';
      for (let i = 0; i < 50; i++) events += chatData(`e${i}`);
      res.write(events);
      res.on('close', () => closedByClient());
    });
    const spy = chunkRecordingTransport(transport);
    const values: SseFrame[] = [];
    let errored = false;
    let completed = false;
    const subscription = sseFrames({ transport: spy.transport, url: `${server.url}/buffered` }).subscribe({
      next(frame) {
        values.push(frame);
        subscription.unsubscribe();
      },
      error: () => (errored = true),
      complete: () => (completed = true),
    });
    await responseClosed;
    // The connection is gone, so nothing more can arrive; what was read arrived in the read of the first frame.
    await server.waitForClosedSockets(1);
    await socketsClosed();
    expect(values).toHaveLength(1);
    expect(values[0]).toEqual({ type: 'event', data: chatData('e0').slice(6, -2) });
    expect(errored).toBe(false);
    expect(completed).toBe(false);
    // The first read held all 50 events: 49 were decoded after the unsubscribe and dropped.
    expect(spy.chunks[0]).toBe(Buffer.byteLength(Array.from({ length: 50 }, (_, i) => chatData(`e${i}`)).join('')));
  });

  test('takeUntil closes the server socket', async () => {
    server = await startServer(endlessStream);
    const stop = new Subject<void>();
    const recording = record(framesFrom().pipe(takeUntil(stop)));
    await recording.until(() => recording.values.length > 0, 'a first frame');
    stop.next();
    expect(recording.completed).toBe(true);
    await socketsClosed();
  });

  test('take(3) closes the server socket', async () => {
    server = await startServer(endlessStream);
    const recording = record(framesFrom().pipe(take(3)));
    await recording.done;
    expect(recording.completed).toBe(true);
    expect(recording.values).toHaveLength(3);
    await socketsClosed();
  });

  test('switchMap closes the superseded request', async () => {
    server = await startServer(endlessStream);
    const trigger = new Subject<string>();
    const recording = record(trigger.pipe(switchMap((path) => framesFrom(path))));
    trigger.next('/first');
    await server.waitForRequests(1);
    await recording.until(() => recording.values.length > 0, 'a frame from the first request');
    trigger.next('/second');
    await server.waitForRequests(2);
    await server.until(() => server.openRequestSockets() === 1, 'the first request socket to close');
    recording.subscription.unsubscribe();
    await socketsClosed();
    expect(recording.errored).toBe(false);
    expect(server.requests.map((request) => request.url)).toEqual(['/first', '/second']);
  });

  test("the caller's AbortSignal ends the stream with StreamAbortError and closes the socket", async () => {
    server = await startServer(endlessStream);
    const controller = new AbortController();
    const recording = record(framesFrom('/stream', controller.signal));
    await recording.until(() => recording.values.length > 0, 'a first frame');
    controller.abort('user pressed stop');
    await recording.done;
    expect(recording.error).toBeInstanceOf(StreamAbortError);
    expect((recording.error as StreamAbortError).reason).toBe('user pressed stop');
    await socketsClosed();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  test('an already aborted signal sends nothing', async () => {
    server = await startServer(endlessStream);
    const counting = callCountingTransport(transport);
    const error = await firstValueFrom(framesFrom('/stream', AbortSignal.abort(), counting.transport)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamAbortError);
    // The stream has ended without asking the transport, the only way to the network: no request can follow.
    expect(counting.calls()).toBe(0);
    expect(server.requests).toHaveLength(0);
  });

  test('unsubscribing before the response headers arrive closes the socket', async () => {
    const responses: ServerResponse[] = [];
    server = await startServer((_req, res) => {
      responses.push(res); // never answered
    });
    const recording = record(framesFrom());
    await server.waitForRequests(1);
    recording.subscription.unsubscribe();
    await socketsClosed();
    expect(responses[0].destroyed || responses[0].writableEnded || responses[0].socket === null).toBe(true);
    expect(recording.values).toEqual([]);
    expect(recording.errored || recording.completed).toBe(false);
  });

  test('2,000 requests on one long-lived signal leave no abort listener behind', async () => {
    server = await startServer((req, res) => {
      sseHead(res);
      if (req.url === '/hold') res.write(chatData('held'));
      else res.end(`${chatData('a', 'stop')}data: [DONE]\n\n`);
    });
    const signal = new AbortController().signal;
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    // While requests are in flight the signal carries one listener for all of them: the count below is able to
    // see it, and twenty streams on one signal raise no MaxListenersExceededWarning (Node warns past ten listeners).
    const held = Array.from({ length: 20 }, () => record(framesFrom('/hold', signal)));
    await Promise.all(held.map((recording) => recording.until(() => recording.values.length > 0, 'the held stream to start')));
    expect(getEventListeners(signal, 'abort')).toHaveLength(1);
    // Node emits the warning on the tick after the listener that exceeds the limit is added; the listeners were all
    // added on subscribe, and a network round trip has passed since.
    process.off('warning', onWarning);
    expect(warnings.map((warning) => warning.name)).not.toContain('MaxListenersExceededWarning');
    for (const recording of held) recording.subscription.unsubscribe();

    for (let batch = 0; batch < 100; batch++) {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          // Half run to completion, half are cut short after their first frame.
          lastValueFrom(framesFrom('/done', signal).pipe(take(i % 2 === 0 ? 5 : 1), toArray())),
        ),
      );
    }
    expect(server.requests).toHaveLength(2020);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  test('after 1,000 subscribe/unsubscribe cycles no socket, timer or listener is left', async () => {
    server = await startServer((req, res) => {
      if (req.url === '/slow-headers') {
        setTimeout(() => !res.destroyed && endlessStream(req, res), 10);
        return;
      }
      endlessStream(req, res);
    });
    const timers = trackedScheduler();
    const signal = new AbortController().signal;
    {
      for (let batch = 0; batch < 100; batch++) {
        await Promise.all(
          Array.from({ length: 10 }, async (_, i) => {
            const timeout = { headersMs: 5000, firstEventMs: 5000, idleMs: 5000, totalMs: 10_000 };
            const frames$ = sseFrames({
              transport,
              url: `${server.url}/${i % 3 === 0 ? 'slow-headers' : 'stream'}`,
              signal,
              timeout,
              scheduler: timers,
            });
            if (i % 2 === 0) {
              await firstValueFrom(frames$);
            } else {
              // Unsubscribed while the request is still on its way.
              const recording = record(frames$);
              await new Promise((resolve) => setTimeout(resolve, i));
              recording.subscription.unsubscribe();
            }
          }),
        );
      }
      expect(timers.started()).toBeGreaterThanOrEqual(1000);
      expect(timers.live()).toBe(0);
    }
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    await server.until(() => server.openSockets() === 0, 'every socket to the server to close', 10_000);
  });
});
