import { join } from 'node:path';
import { bundleProbe, type Probe } from '../helpers/freshProcess';

/*
 * What an open response body keeps on the heap through `undiciTransport`, counted against undici's own `request()`
 * in the same fresh process (spec/helpers/transportFootprint.ts), beside the same server. The transport exists to
 * keep less than `request()` and its `Readable` body; a handler that kept undici's raw header buffers (views into
 * the socket's first read) cost 1.7 KB more per stream than `request()`.
 */

let probe: Probe;

beforeAll(async () => {
  probe = await bundleProbe(join(__dirname, '..', 'helpers', 'transportFootprint.ts'));
});

afterAll(() => probe.remove());

test('an open body read through undiciTransport keeps less heap than one read through request()', async () => {
  const kb = await probe.run<{ transport: number; request: number }>();

  // Each figure includes the same server side; a count that collapsed would not reach it.
  expect(kb.request).toBeGreaterThan(4);
  expect(kb.transport).toBeLessThan(kb.request);
});
