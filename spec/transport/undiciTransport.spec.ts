import type { ServerResponse } from 'node:http';
import { Agent } from 'undici';
import type { ByteStream } from '../../src/transport/types';
import { undiciTransport } from '../../src/transport/undiciTransport';
import { watchChanges, watchedList } from '../helpers/changes';
import { startServer, type TestServer } from '../helpers/server';
import { microtasksRun } from '../helpers/virtualClock';
import { clientPolledIo, watchedDispatcher } from '../helpers/watchedStack';

/** What a body handed its sink: the text, and each end or error in order (a correct body hands on one at most). */
interface BodyRecord {
  text: string;
  bytes: number;
  settlements: Array<'end' | 'error'>;
  error: unknown;
  /** Chunks that reached the sink after it was told to stop (cancel) or after its end or error. */
  strays: number;
  /** From now on, a chunk is a stray. */
  stopped(): void;
  until(condition: () => boolean, what: string): Promise<void>;
}

/** Reads `body`; `onData` runs inside each chunk's `data` (where a relay pauses, resumes or cancels). */
function recordBody(body: ByteStream, onData: (record: BodyRecord) => void = () => undefined): BodyRecord {
  const changes = watchChanges();
  let stopped = false;
  const decoder = new TextDecoder();
  const record: BodyRecord = {
    text: '',
    bytes: 0,
    settlements: [],
    error: undefined,
    strays: 0,
    until: changes.until,
    stopped: () => {
      stopped = true;
    },
  };
  body.read({
    data(chunk) {
      if (stopped || record.settlements.length > 0) record.strays++;
      record.text += decoder.decode(chunk, { stream: true });
      record.bytes += chunk.byteLength;
      onData(record);
      changes.changed();
    },
    end() {
      record.settlements.push('end');
      changes.changed();
    },
    error(error) {
      record.settlements.push('error');
      record.error = error;
      changes.changed();
    },
  });
  return record;
}

/** A watched agent (../helpers/watchedStack.ts) and the transport on it. */
function watchedAgent(options: Agent.Options = {}) {
  const watched = watchedDispatcher(options);
  return { ...watched, transport: undiciTransport({ dispatcher: watched.dispatcher }) };
}

/**
 * What undici's request threw back at its parser while the spec ran: undici catches it and destroys the socket,
 * so an internal assertion that failed is seen nowhere else.
 */
function undiciRequestThrows(): { thrown: string[]; stop(): void } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- undici's internal Request, the one the Agent uses
  const { prototype } = require('undici/lib/core/request.js') as { prototype: Record<string, (...args: unknown[]) => unknown> };
  const thrown: string[] = [];
  const originals = ['onConnect', 'onHeaders', 'onData', 'onComplete', 'onError'].map((name) => {
    const original = prototype[name];
    prototype[name] = function (this: unknown, ...args: unknown[]) {
      try {
        return original.apply(this, args);
      } catch (error) {
        thrown.push(`${name}: ${String(error)}`);
        throw error;
      }
    };
    return [name, original] as const;
  });
  return {
    thrown,
    stop: () => {
      for (const [name, original] of originals) prototype[name] = original;
    },
  };
}

/**
 * Writes each chunk once the one before has gone out: writes made in one tick may leave as one HTTP chunk (Node 24
 * joins them), and a spec about chunks needs undici to see each on its own.
 */
async function writeApart(res: ServerResponse, chunks: string[]): Promise<void> {
  for (const chunk of chunks) await new Promise<void>((resolve, reject) => res.write(chunk, (error) => (error ? reject(error) : resolve())));
}

const get = (transport: ReturnType<typeof undiciTransport>, url: string, signal = new AbortController().signal, method = 'GET') =>
  transport({ url, method, headers: {}, signal });

/** Connections the server accepted so far. */
const connections = (server: TestServer) => server.openSockets() + server.closedSockets();

describe('undiciTransport', () => {
  let server: TestServer;
  let handle: (path: string, res: ServerResponse) => void;
  let stack: ReturnType<typeof watchedAgent>;
  beforeEach(async () => {
    server = await startServer((req, res) => {
      if (req.url === '/poll') res.end('polled');
      else handle(req.url ?? '', res);
    });
    stack = watchedAgent();
  });
  afterEach(async () => {
    await stack.close();
    await server.close();
  });
  /** `body` ended or failed, and the client polled its sockets since: a second end or a stray chunk would be here. */
  const settled = async (body: BodyRecord, what: string) => {
    await body.until(() => body.settlements.length > 0, what);
    await clientPolledIo(`${server.url}/poll`);
  };

  describe('a body that ends or fails before anybody reads it', () => {
    test('a small complete response: read hands on its bytes and then its end, once', async () => {
      let finished!: Promise<void>;
      handle = (_path, res) => {
        finished = new Promise((resolve) => res.on('finish', resolve));
        res.end('ok');
      };
      const response = await get(stack.transport, `${server.url}/small`);
      await finished;
      await clientPolledIo(`${server.url}/poll`);
      const body = recordBody(response.body);
      await settled(body, 'the end');
      expect(body).toMatchObject({ text: 'ok', settlements: ['end'], strays: 0 });
    });

    test('a HEAD answer ends before the read: read hands on the end, once', async () => {
      handle = (_path, res) => res.writeHead(200, { 'content-length': '5' }).end();
      const response = await get(stack.transport, `${server.url}/head`, undefined, 'HEAD');
      await stack.made('onResponseEnd');
      const body = recordBody(response.body);
      await settled(body, 'the end');
      expect(body).toMatchObject({ text: '', settlements: ['end'] });
    });

    test('the signal aborted after the headers: read hands on the error, once, and the connection closes', async () => {
      handle = (_path, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('before');
      };
      const controller = new AbortController();
      const response = await get(stack.transport, `${server.url}/aborted`, controller.signal);
      const reason = new Error('gone');
      controller.abort(reason);
      await stack.made('onResponseError');
      await server.requestSocketsClosed();
      const body = recordBody(response.body);
      await settled(body, 'the error');
      expect(body).toMatchObject({ settlements: ['error'], error: reason, strays: 0 });
    });

    test('a connection closed after the headers: read hands on what came, then the error, once', async () => {
      handle = (_path, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('before', () => res.socket?.destroy());
      };
      const response = await get(stack.transport, `${server.url}/close`);
      await server.requestSocketsClosed();
      await clientPolledIo(`${server.url}/poll`);
      const body = recordBody(response.body);
      await settled(body, 'the error');
      expect(body).toMatchObject({ text: 'before', settlements: ['error'], strays: 0 });
    });

    test('an abort while a chunk is held: resume hands on the chunk, then the error, once', async () => {
      let send!: (text: string) => void;
      handle = (_path, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.flushHeaders();
        send = (text) => res.write(text);
      };
      const controller = new AbortController();
      const response = await get(stack.transport, `${server.url}/held`, controller.signal);
      const body = recordBody(response.body);
      send('a');
      await body.until(() => body.text === 'a', 'the first chunk');
      response.body.pause();
      send('b');
      await stack.made('onResponseData', 2);
      controller.abort(new Error('gone'));
      await stack.made('onResponseError');
      expect(body).toMatchObject({ text: 'a', settlements: [] });
      response.body.resume();
      await settled(body, 'the error');
      expect(body).toMatchObject({ text: 'ab', settlements: ['error'], strays: 0 });
    });
  });

  test('1xx informational answers before the final one: the promise resolves with the final status and headers only', async () => {
    handle = (_path, res) => {
      res.writeEarlyHints({ link: '</a.css>; rel=preload' });
      res.writeEarlyHints({ link: '</b.css>; rel=preload' });
      res.writeHead(201, { 'x-final': 'yes' }).end('body');
    };
    const response = await get(stack.transport, `${server.url}/hints`);
    // Both hints reached undici's handler: the final answer was the third.
    expect(stack.calls.filter((call) => call === 'onResponseStart')).toHaveLength(3);
    expect(response.status).toBe(201);
    expect(response.headers['x-final']).toBe('yes');
    expect(response.headers.link).toBeUndefined();
    const body = recordBody(response.body);
    await body.until(() => body.settlements.length > 0, 'the end');
    expect(body).toMatchObject({ text: 'body', settlements: ['end'] });
  });

  describe('on one connection', () => {
    let single: ReturnType<typeof watchedAgent>;
    beforeEach(() => {
      single = watchedAgent({ connections: 1 });
    });
    afterEach(() => single.close());

    test('aborting a request queued behind a stream rejects it at once; the stream goes on and the connection stays its own', async () => {
      let send!: (text: string | null) => void;
      handle = (_path, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.flushHeaders();
        send = (text) => (text === null ? res.end() : res.write(text));
      };
      const first = recordBody((await get(single.transport, `${server.url}/first`)).body);
      const controller = new AbortController();
      const settled = watchedList<string>();
      get(single.transport, `${server.url}/queued`, controller.signal).then(
        () => settled.push('resolved'),
        () => settled.push('rejected'),
      );
      await clientPolledIo(`${server.url}/poll`);
      controller.abort();
      await settled.reaches(1, 'the queued request to settle');
      expect(settled).toEqual(['rejected']);
      send('a');
      send(null);
      await first.until(() => first.settlements.length > 0, 'the first stream to end');
      expect(first).toMatchObject({ text: 'a', settlements: ['end'] });
      // The queued request was never sent, and the connection carries the next one.
      const next = recordBody((await get(single.transport, `${server.url}/poll`)).body);
      await next.until(() => next.settlements.length > 0, 'the next answer');
      expect(server.requests.map((request) => request.url)).toEqual(['/first', '/poll', '/poll']);
      expect(connections(server)).toBe(2);
      expect(settled).toEqual(['rejected']);
    });
  });

  describe('called from inside the sink', () => {
    /** A response of `chunks` chunks that the client holds whole in its socket before anybody reads it. */
    const bufferedWhole = async (chunks: string[], headers: Record<string, string> = {}) => {
      let finished!: Promise<void>;
      handle = (_path, res) => {
        finished = new Promise((resolve) => res.on('finish', resolve));
        res.writeHead(200, { 'content-type': 'text/event-stream', ...headers });
        void writeApart(res, chunks).then(() => res.end());
      };
      const response = await get(stack.transport, `${server.url}/whole`);
      await finished;
      await clientPolledIo(`${server.url}/poll`);
      return response;
    };
    const CHUNKS = ['a', 'b', 'c', 'd', 'e', 'f'];

    test('pause then resume in the same data call: every chunk in order, then one end', async () => {
      const response = await bufferedWhole(CHUNKS);
      const body = recordBody(response.body, () => {
        response.body.pause();
        response.body.resume();
      });
      await settled(body, 'the end');
      expect(body).toMatchObject({ text: CHUNKS.join(''), settlements: ['end'], strays: 0 });
    });

    test('pause in data, resume from inside another body\'s data: the paused body goes on and ends once', async () => {
      const paused = await bufferedWhole(CHUNKS);
      let sendOther!: (text: string | null) => void;
      handle = (_path, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.flushHeaders();
        sendOther = (text) => (text === null ? res.end() : res.write(text));
      };
      const other = await get(stack.transport, `${server.url}/other`);
      const body = recordBody(paused.body, () => paused.body.pause());
      await body.until(() => body.text.length === 1, 'the first chunk');
      const otherBody = recordBody(other.body, () => paused.body.resume());
      for (let sent = 1; sent < CHUNKS.length; sent++) {
        await clientPolledIo(`${server.url}/poll`);
        expect(body.text).toBe(CHUNKS.slice(0, sent).join(''));
        sendOther('x');
        await body.until(() => body.text.length === sent + 1, `chunk ${sent + 1} after a resume from the other body`);
      }
      // Paused again in the last chunk's data, the body has its end still unread: one more resume hands it on.
      await clientPolledIo(`${server.url}/poll`);
      expect(body.settlements).toEqual([]);
      sendOther(null);
      await otherBody.until(() => otherBody.settlements.length > 0, 'the other end');
      expect(body.settlements).toEqual([]);
      paused.body.resume();
      await settled(body, 'the end after the last resume');
      expect(body).toMatchObject({ text: CHUNKS.join(''), settlements: ['end'], strays: 0 });
    });

    test.each([
      ['the first chunk', 'a kept-alive connection', {}],
      ['the first chunk', 'a connection the server closes after the answer', { connection: 'close' }],
      ['the last chunk', 'a kept-alive connection', {}],
      ['the last chunk', 'a connection the server closes after the answer', { connection: 'close' }],
    ])('cancel inside the data of %s on %s: nothing more reaches the sink, the socket closes, undici asserts nothing', async (at, _name, headers) => {
      const undici = undiciRequestThrows();
      try {
        const response = await bufferedWhole(CHUNKS, headers);
        const cancelAt = at === 'the first chunk' ? 'a' : CHUNKS.join('');
        const body = recordBody(response.body, (record) => {
          if (record.text !== cancelAt) return;
          record.stopped();
          response.body.cancel();
        });
        await server.requestSocketsClosed();
        await clientPolledIo(`${server.url}/poll`);
        expect(body).toMatchObject({ text: cancelAt, settlements: [], strays: 0 });
        expect(undici.thrown).toEqual([]);
      } finally {
        undici.stop();
      }
    });

    test('the signal aborted inside the last data on a connection the server closes: the error reaches the sink once, undici asserts nothing', async () => {
      const undici = undiciRequestThrows();
      try {
        let finished!: Promise<void>;
        handle = (_path, res) => {
          finished = new Promise((resolve) => res.on('finish', resolve));
          res.writeHead(200, { connection: 'close' });
          for (const chunk of CHUNKS) res.write(chunk);
          res.end();
        };
        const controller = new AbortController();
        const response = await get(stack.transport, `${server.url}/whole`, controller.signal);
        await finished;
        await clientPolledIo(`${server.url}/poll`);
        const body = recordBody(response.body, (record) => {
          if (record.text === CHUNKS.join('')) controller.abort(new Error('gone'));
        });
        await server.requestSocketsClosed();
        await clientPolledIo(`${server.url}/poll`);
        expect(body).toMatchObject({ text: CHUNKS.join(''), settlements: ['error'], strays: 0 });
        expect(undici.thrown).toEqual([]);
      } finally {
        undici.stop();
      }
    });
  });

  test.each(['after', 'inside'])('cancel %s the end leaves the connection to the next request', async (when) => {
    handle = (_path, res) => res.end('whole');
    for (let request = 0; request < 3; request++) {
      const response = await get(stack.transport, `${server.url}/again`);
      const settlements = watchedList<string>();
      response.body.read({
        data: () => undefined,
        end() {
          if (when === 'inside') response.body.cancel();
          settlements.push('end');
        },
        error: () => settlements.push('error'),
      });
      await settlements.reaches(1, 'the end');
      // undici gives a finished connection back one loop turn after its end, as the next one begins.
      await microtasksRun();
      expect(settlements).toEqual(['end']);
      if (when === 'after') response.body.cancel();
    }
    expect(connections(server)).toBe(1);
  });

  describe('a hostile upstream', () => {
    const BIG = 32 * 1024 * 1024;

    test('a body far larger than a read, sent while paused, stays in the network: little is handed on, and all of it after resume', async () => {
      let written!: Promise<void>;
      let sendRest!: () => void;
      handle = (_path, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.write('a');
        sendRest = () => {
          written = new Promise((resolve) => res.end(Buffer.alloc(BIG, 0x62), () => resolve()));
        };
      };
      const response = await get(stack.transport, `${server.url}/big`);
      const body = recordBody(response.body);
      await body.until(() => body.bytes === 1, 'the first byte');
      response.body.pause();
      sendRest();
      let done = false;
      void written.then(() => (done = true));
      for (let poll = 0; poll < 20; poll++) await clientPolledIo(`${server.url}/poll`);
      // One chunk in flight when pause came, at most one socket read: the rest waits in TCP, not in this process.
      expect(stack.bytesHandedOn()).toBeLessThan(1 + 256 * 1024);
      expect(done).toBe(false);
      expect(body.bytes).toBe(1);
      response.body.resume();
      await body.until(() => body.settlements.length > 0, 'the end');
      expect(body).toMatchObject({ bytes: BIG + 1, settlements: ['end'] });
    });

    test('headers and then nothing: cancel closes the socket', async () => {
      handle = (_path, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.flushHeaders();
      };
      const response = await get(stack.transport, `${server.url}/stall`);
      const body = recordBody(response.body);
      await clientPolledIo(`${server.url}/poll`);
      response.body.cancel();
      await server.requestSocketsClosed();
      await clientPolledIo(`${server.url}/poll`);
      expect(body).toMatchObject({ bytes: 0, settlements: [] });
    });
  });

  test('a signal aborted before the request rejects at once, even queued behind a stream, and sends nothing', async () => {
    const single = watchedAgent({ connections: 1 });
    try {
      let end!: () => void;
      handle = (_path, res) => {
        res.writeHead(200).write('a');
        end = () => res.end();
      };
      const first = recordBody((await get(single.transport, `${server.url}/first`)).body);
      const controller = new AbortController();
      controller.abort(new Error('before'));
      await expect(get(single.transport, `${server.url}/queued`, controller.signal)).rejects.toThrow('before');
      end();
      await first.until(() => first.settlements.length > 0, 'the first end');
      await clientPolledIo(`${server.url}/poll`);
      expect(server.requests.map((request) => request.url)).toEqual(['/first', '/poll']);
    } finally {
      await single.close();
    }
  });
});
