import { TestScheduler } from 'rxjs/testing';
import { CANCEL_TIMEOUT_MS, sendStreamCancel } from '../../src/resume/clientCancelStream';
import { scriptedTransport } from '../../src/testing/scriptedTransport';
import type { PromiseTransport, Transport, TransportRequest } from '../../src/transport/types';
import { startServer, type TestServer } from '../helpers/server';
import { watchedList } from '../helpers/changes';
import { TRANSPORTS } from '../helpers/streams';
import { overriding } from '../helpers/transportSpies';

const headers = { authorization: 'Bearer sk-cancel', accept: 'application/json' };

describe.each(TRANSPORTS)('sendStreamCancel over %s', (_name, transport) => {
  let server: TestServer;
  afterEach(() => server?.close());

  test('POSTs to the cancel URL with the headers and keepalive, and reads the answer so the socket is free again', async () => {
    server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"cancelling"}');
    });
    const sent: TransportRequest[] = [];
    const answered = watchedList<'end'>();
    const spy: PromiseTransport = async (request) => {
      sent.push(request);
      const response = await transport(request);
      const { body } = response;
      return { ...response, body: overriding(body, { read: (sink) => body.read({ ...sink, end: () => (answered.push('end'), sink.end()) }) }) };
    };
    sendStreamCancel({ transport: spy, url: `${server.url}/v1/streams/abc/cancel`, headers });
    await server.waitForRequests(1);
    expect(server.requests[0]).toMatchObject({ method: 'POST', url: '/v1/streams/abc/cancel', body: '' });
    expect(server.requests[0].headers.authorization).toBe('Bearer sk-cancel');
    expect(sent[0].keepalive).toBe(true);
    await answered.reaches(1, 'the answer to be read to its end');
  });

  test('a refused connection, an error status, a transport that throws or rejects: nothing escapes', async () => {
    server = await startServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"down"}}');
    });
    const closed = await startServer(() => undefined);
    await closed.close();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const settled = watchedList<string>();
    const observed =
      (inner: Transport, name: string): PromiseTransport =>
      (request) =>
        Promise.resolve(inner(request) as Promise<never>).finally(() => settled.push(name));
    try {
      const throwing: Transport = () => {
        throw new Error('no transport today');
      };
      expect(() => sendStreamCancel({ transport: throwing, url: `${server.url}/c`, headers })).not.toThrow();
      sendStreamCancel({ transport: () => Promise.reject(new Error('rejected')), url: `${server.url}/c`, headers });
      sendStreamCancel({ transport: observed(transport, 'refused'), url: `${closed.url}/c`, headers });
      sendStreamCancel({ transport: observed(transport, '500'), url: `${server.url}/c`, headers });
      await settled.reaches(2, 'both requests to settle');
      // An unhandled rejection is reported once the microtasks after it ran.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });
});

test(`a relay that never answers is given up after ${CANCEL_TIMEOUT_MS} ms`, () => {
  const testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  const transport = scriptedTransport({ headersDelayMs: Infinity });
  testScheduler.run(({ flush }) => {
    sendStreamCancel({ transport, url: 'https://relay.test/v1/streams/abc/cancel', headers });
    testScheduler.schedule(() => expect(transport.requests[0].state).toBe('waiting'), CANCEL_TIMEOUT_MS - 1);
    flush();
  });
  expect(transport.requests[0].state).toBe('cancelled');
});
