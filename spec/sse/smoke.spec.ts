import { lastValueFrom, toArray } from 'rxjs';
import { createClient, contentDeltas } from '../../src/index.node';
import { chatData, sseHead, startServer, type TestServer } from '../helpers/server';

let server: TestServer;
afterEach(() => server?.close());

test('streams a chat completion from a real server', async () => {
  server = await startServer((_req, res) => {
    sseHead(res);
    res.write(chatData('Hel'));
    res.write(chatData('lo', 'stop'));
    res.end('data: [DONE]\n\n');
  });
  const client = createClient({ baseURL: server.url, apiKey: 'sk-test' });
  const text = await lastValueFrom(
    client.chat.completions.stream({ model: 'm', messages: [] }).pipe(contentDeltas(), toArray()),
  );
  expect(text).toEqual(['Hel', 'lo']);
  expect(JSON.parse(server.requests[0].body)).toEqual({ model: 'm', messages: [], stream: true });
  expect(server.requests[0].headers.authorization).toBe('Bearer sk-test');
});
