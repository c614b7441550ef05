import { lastValueFrom, toArray } from 'rxjs';
import { createClient, contentDeltas, outputTextDeltas } from '../../src/index.node';
import { FINISHED_BODY_GRACE_MS } from '../../src/sse/sseFrames';
import { fetchTransport } from '../../src/transport/fetchTransport';
import type { PromiseTransport } from '../../src/transport/types';
import { undiciTransport } from '../../src/transport/undiciTransport';
import { watchedList } from '../helpers/changes';
import { overriding, wrappingBodies } from '../helpers/transportSpies';
import { chatData, sseHead, startServer, type TestServer } from '../helpers/server';
import { VirtualClock } from '../helpers/virtualClock';

/**
 * `transport`, recording how the client let go of each response: its body read to the end (`ends`), or torn
 * down (`teardowns`: the body cancelled or the request aborted), which is the only way the client closes a socket.
 */
function lettingGo(transport: PromiseTransport) {
  const ends = watchedList<'end'>();
  const teardowns = watchedList<'cancel' | 'abort'>();
  const observed = wrappingBodies(transport, (body, request) => {
    request.signal.addEventListener('abort', () => teardowns.push('abort'), { once: true });
    return overriding(body, {
      read: (sink) =>
        body.read({
          data: (chunk) => sink.data(chunk),
          end() {
            ends.push('end');
            sink.end();
          },
          error: (error) => sink.error(error),
        }),
      cancel() {
        teardowns.push('cancel');
        body.cancel();
      },
    });
  });
  return { transport: observed, ends, teardowns };
}

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const params = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }] };

describe.each([
  ['undici', undiciTransport()],
  ['fetch', fetchTransport()],
])('a finished response (%s transport)', (_name, stack) => {
  // The next request may start before the finished body's last bytes are read, so it may open another
  // connection (how many depends on timing); what matters is that no finished response destroys its socket.
  test('leaves its connection open for reuse: sequential streams close no socket', async () => {
    server = await startServer((_req, res) => {
      sseHead(res);
      res.write(chatData('a'));
      res.write(`${chatData('b', 'stop')}data: [DONE]\n\n`);
      // The body's end arrives in a later read than [DONE], as with servers that flush each event.
      setTimeout(() => res.end(), 5);
    });
    const { transport, ends, teardowns } = lettingGo(stack);
    const client = createClient({ baseURL: server.url, apiKey: 'sk-test', transport });
    for (let i = 0; i < 5; i++) {
      const text = await lastValueFrom(client.chat.completions.stream(params).pipe(contentDeltas(), toArray()));
      expect(text).toEqual(['a', 'b']);
    }
    expect(server.requests).toHaveLength(5);
    // Every body was read to its end and none was torn down: no finished response can close its socket.
    await ends.reaches(5, 'the end of every body');
    expect(teardowns).toEqual([]);
    expect(server.closedSockets()).toBe(0);
  });

  test('a Responses stream that ends after its terminal event also keeps the connection', async () => {
    server = await startServer((_req, res) => {
      sseHead(res);
      const event = (type: string, fields: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;
      res.write(event('response.output_text.delta', { item_id: 'm1', output_index: 0, content_index: 0, delta: 'hi' }));
      res.write(
        event('response.completed', {
          response: { id: 'r1', object: 'response', created_at: 1, status: 'completed', model: 'm', output: [] },
        }),
      );
      setTimeout(() => res.end(), 5);
    });
    const { transport, ends, teardowns } = lettingGo(stack);
    const client = createClient({ baseURL: server.url, apiKey: 'sk-test', transport });
    for (let i = 0; i < 5; i++) {
      const text = await lastValueFrom(client.responses.stream({ model: 'm', input: 'hi' }).pipe(outputTextDeltas(), toArray()));
      expect(text).toEqual(['hi']);
    }
    await ends.reaches(5, 'the end of every body');
    expect(teardowns).toEqual([]);
    expect(server.closedSockets()).toBe(0);
  });

  test('a server that keeps the body open after [DONE] has its socket closed after the grace period', async () => {
    server = await startServer((_req, res) => {
      sseHead(res);
      res.write(`${chatData('a', 'stop')}data: [DONE]\n\n`);
    });
    // The grace period runs on a virtual clock, moved by the test.
    const clock = new VirtualClock();
    const { transport, teardowns } = lettingGo(stack);
    const client = createClient({ baseURL: server.url, apiKey: 'sk-test', transport, scheduler: clock });
    const text = await lastValueFrom(client.chat.completions.stream(params).pipe(contentDeltas(), toArray()));
    expect(text).toEqual(['a']);
    // Tearing down is synchronous: not at completion, nor a moment before the grace period ends.
    expect(teardowns).toEqual([]);
    clock.advanceBy(FINISHED_BODY_GRACE_MS - 1);
    expect(teardowns).toEqual([]);
    clock.advanceBy(1);
    expect(teardowns.length).toBeGreaterThan(0);
    await server.waitForClosedSockets(1);
  });
});
