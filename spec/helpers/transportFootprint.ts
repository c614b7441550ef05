import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import type { ByteSink } from '../../src/transport/types';
import { undiciTransport } from '../../src/transport/undiciTransport';
import { heapPerOpened, runProbe } from './heapCount';

/*
 * Heap bytes per open response body on undici, counted in a process of its own: spec/transport/transportFootprint.spec.ts
 * bundles this file and runs `node --expose-gc transportFootprint.cjs`, which prints `{ transport, request }`: KB per
 * open body read through `undiciTransport`, and through undici's `request()` and its `Readable` body. The server is
 * in the same process; its share of each figure is the same.
 */

const STREAMS = 1000;
const WARM_UP = 100;

/** Tells once the first chunk arrived, then lets go of the callback, as a listener removed after one event would. */
class FirstChunk implements ByteSink {
  constructor(private arrived?: () => void) {}
  data(): void {
    this.arrived?.();
    this.arrived = undefined;
  }
  end(): void {}
  error(): void {}
}

type OpenBody = (url: string, agent: Agent) => Promise<unknown>;

const openers: Record<'transport' | 'request', OpenBody> = {
  async transport(url, agent) {
    const signal = new AbortController().signal;
    const response = await undiciTransport({ dispatcher: agent })({ url, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', signal });
    await new Promise<void>((resolve) => response.body.read(new FirstChunk(resolve)));
    return response;
  },
  async request(url, agent) {
    const signal = new AbortController().signal;
    const response = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', signal, dispatcher: agent });
    await new Promise((resolve) => response.body.once('data', resolve));
    return response;
  },
};

/** KB per body of `open` kept open (its first chunk read) on a fresh agent. */
async function perOpenBody(open: OpenBody, url: string, gc: () => void): Promise<number> {
  const agent = new Agent({ keepAliveTimeout: 10_000 });
  const kept: unknown[] = [];
  const openMany = async (count: number) => {
    kept.push(...(await Promise.all(Array.from({ length: count }, () => open(url, agent)))));
  };
  const perBody = await heapPerOpened(openMany, WARM_UP, STREAMS, gc);
  await agent.destroy();
  return perBody / 1024;
}

async function measure(gc: () => void): Promise<Record<keyof typeof openers, number>> {
  const server: Server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: {"a":1}\n\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    return { request: await perOpenBody(openers.request, url, gc), transport: await perOpenBody(openers.transport, url, gc) };
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

runProbe(measure);
