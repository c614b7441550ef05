import { lastValueFrom, toArray } from 'rxjs';
import { createClient, contentDeltas, outputTextDeltas } from '../../src/index.node';
import { FINISHED_BODY_GRACE_MS } from '../../src/sse/sseFrames';
import { fetchTransport } from '../../src/transport/fetchTransport';
import { chatData, sseHead, startServer, type TestServer } from '../helpers/server';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const params = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }] };

describe.each([
  ['undici', undefined],
  ['fetch', fetchTransport()],
])('a finished response (%s transport)', (_name, transport) => {
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
    const client = createClient({ baseURL: server.url, apiKey: 'sk-test', transport });
    for (let i = 0; i < 5; i++) {
      const text = await lastValueFrom(client.chat.completions.stream(params).pipe(contentDeltas(), toArray()));
      expect(text).toEqual(['a', 'b']);
    }
    expect(server.requests).toHaveLength(5);
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
    const client = createClient({ baseURL: server.url, apiKey: 'sk-test', transport });
    for (let i = 0; i < 5; i++) {
      const text = await lastValueFrom(client.responses.stream({ model: 'm', input: 'hi' }).pipe(outputTextDeltas(), toArray()));
      expect(text).toEqual(['hi']);
    }
    expect(server.closedSockets()).toBe(0);
  });

  test('a server that keeps the body open after [DONE] has its socket closed after the grace period', async () => {
    server = await startServer((_req, res) => {
      sseHead(res);
      res.write(`${chatData('a', 'stop')}data: [DONE]\n\n`);
    });
    const client = createClient({ baseURL: server.url, apiKey: 'sk-test', transport });
    const text = await lastValueFrom(client.chat.completions.stream(params).pipe(contentDeltas(), toArray()));
    expect(text).toEqual(['a']);
    const completedAt = performance.now();
    await server.waitForClosedSockets(1, 5000);
    // A lower bound, which load can only lengthen: the socket was not torn down at completion.
    expect(performance.now() - completedAt).toBeGreaterThanOrEqual(FINISHED_BODY_GRACE_MS - 50);
  });
});
