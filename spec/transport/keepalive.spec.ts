import { fetchTransport } from '../../src/transport/fetchTransport';
import { undiciTransport } from '../../src/transport/undiciTransport';
import { startServer, type TestServer } from '../helpers/server';

describe('the keepalive flag', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  afterEach(() => server.close());

  const request = (keepalive?: boolean) => ({ url: `${server.url}/c`, method: 'POST', headers: {}, signal: new AbortController().signal, keepalive });

  test("fetchTransport hands it to fetch, which sends the request (a page's unload does not stop it)", async () => {
    const inits: RequestInit[] = [];
    const transport = fetchTransport({
      fetch: (input, init) => {
        inits.push(init ?? {});
        return globalThis.fetch(input, init);
      },
    });
    for (const keepalive of [true, undefined]) {
      const response = await transport(request(keepalive));
      response.body.cancel();
    }
    expect(inits.map((init) => init.keepalive)).toEqual([true, undefined]);
    expect(server.requests).toHaveLength(2);
  });

  test('undiciTransport has no such notion and sends the request as any other', async () => {
    const response = await undiciTransport()(request(true));
    expect(response.status).toBe(200);
    response.body.cancel();
    expect(server.requests).toHaveLength(1);
  });
});
