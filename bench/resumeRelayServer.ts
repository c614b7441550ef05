import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRelay } from '../src/node.js';
import { redisResumeStore } from '../src/redis.js';
import type { RelayReady } from './relayServer.js';
import { serveCalls } from './serveCalls.js';

/*
 * The relay under test for the resume scenario, in its own process like relayServer.ts:
 * `resumeRelayServer.ts <upstream base URL> off|memory|<redis URL>`: `createRelay` without resume mode, in resume
 * mode on the memory store, or on a Redis store (every process given the same URL shares its streams). The same
 * script in all three modes, so that the figures differ by resume mode only.
 */

const [upstreamBaseURL, mode] = process.argv.slice(2);
if (!upstreamBaseURL || !mode) throw new Error('usage: resumeRelayServer.ts <upstream base URL> off|memory|<redis URL>');

const relay = createRelay({
  baseURL: upstreamBaseURL,
  apiKey: 'sk-bench-relay',
  heartbeatMs: 0,
  resume: mode === 'off' ? false : mode === 'memory' ? true : { store: redisResumeStore({ url: mode }) },
  onError: (error) => console.error('[bench resume relay]', error),
});
const server = createServer({ noDelay: true }, relay);

server.listen(0, '127.0.0.1', () => {
  serveCalls({ port: (server.address() as AddressInfo).port } satisfies RelayReady, {
    cpu: () => process.cpuUsage(),
    rss: () => process.memoryUsage.rss(),
  });
});
