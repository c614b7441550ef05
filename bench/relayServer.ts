import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRelay } from '../src/node.js';
import { serveCalls } from './serveCalls.js';

/*
 * The relay under test, in its own process on 127.0.0.1, so that its CPU and resident memory are its own:
 * `createRelay` in front of the bench upstream given as the first argument (its base URL); with `on-frame` as the
 * second, an audit hook that counts events, as a deployment that logs or meters frames has (the relay then parses
 * every block).
 */

export interface RelayReady {
  port: number;
}

const upstreamBaseURL = process.argv[2];
if (!upstreamBaseURL) throw new Error('usage: relayServer.ts <upstream base URL> [on-frame]');
let events = 0;
const countEvents = process.argv[3] === 'on-frame';

const relay = createRelay({
  baseURL: upstreamBaseURL,
  apiKey: 'sk-bench-relay',
  heartbeatMs: 0,
  onFrame: countEvents
    ? (frame) => {
        if (frame.type === 'event') events++;
      }
    : undefined,
  onError: (error) => console.error('[bench relay]', error),
});
const server = createServer({ noDelay: true }, relay);

server.listen(0, '127.0.0.1', () => {
  serveCalls({ port: (server.address() as AddressInfo).port } satisfies RelayReady, {
    cpu: () => process.cpuUsage(),
    rss: () => process.memoryUsage.rss(),
    events: () => events,
  });
});
