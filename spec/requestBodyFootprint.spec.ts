import { join } from 'node:path';
import { bundleProbe, type Probe } from './helpers/freshProcess';

/*
 * An open stream keeps nothing of its request body: a prompt may be a whole conversation, and a relay holds hundreds
 * of streams open. Counted in a fresh process (spec/helpers/requestBodyFootprint.ts): a 512 KB prompt per stream, its
 * caller dropping it once sent. `createRelay-resume`, `createFetchRelay-resume`: the relay in resume mode, whose
 * generation outlives the browser's request; `client-resume`: the client with `resume: true`, whose re-attaches live
 * as long as the stream; `-telemetry`: the client with a telemetry, whose taps do too.
 *
 * What stays is undici's: it keeps the body it sent as a Buffer until the response ends (one prompt per stream in
 * `arrayBuffers`), and each connection's sockets and parser (the heap that is left). Before, the client also kept the
 * JSON it sent (the request's closures, and a `catchError`, the operators' teardowns and the telemetry's taps holding
 * the Observables above, down to the caller's params: two prompts in the heap; in resume mode, the re-attaches held
 * the first request's maker, and through it the params), and a relay kept the body it read
 * (its chunks in the reader, the parsed body in the upstream Observable: one prompt more in each).
 */

interface Footprint {
  promptBytes: number;
  heapPerStream: number;
  arrayBuffersPerStream: number;
}

let probe: Probe;

beforeAll(async () => {
  probe = await bundleProbe(join(__dirname, 'helpers', 'requestBodyFootprint.ts'));
});

afterAll(() => probe.remove());

test.each(['client', 'client-telemetry', 'client-resume', 'createRelay', 'createFetchRelay', 'createRelay-resume', 'createFetchRelay-resume'])('an open stream through %s keeps no copy of its request body but undici’s', async (kind) => {
  const { promptBytes, heapPerStream, arrayBuffersPerStream } = await probe.run<Footprint>(kind);

  // Held open: a stream's connections alone cost more than this.
  expect(heapPerStream).toBeGreaterThan(8 * 1024);
  expect(heapPerStream).toBeLessThan(promptBytes / 2);
  expect(arrayBuffersPerStream).toBeLessThan(promptBytes * 1.5);
});
