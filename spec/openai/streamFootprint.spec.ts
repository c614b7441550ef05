import { join } from 'node:path';
import { bundleProbe, type Probe } from '../helpers/freshProcess';

/*
 * What an open stream keeps on the heap, counted rather than timed: a process serving many streams at once holds
 * one of these per stream (issue 16: 500 streams at the floor's peak RSS). The transport is an in-memory one, so
 * the figure is openai-rx's own (request, SSE source, decoder, parser, Rx chain), not undici's socket.
 *
 * The count runs in a fresh process (spec/helpers/streamFootprint.ts, see ../helpers/freshProcess.ts): in a jest
 * worker, sockets, timers and bytecode that earlier spec files left are freed between the two readings, and in CI
 * that once took a third off the figure. tsx would add 3.6 KB per stream of function names.
 *
 * V8 lays objects out differently from one Node major to the next, so the budgets are per major, each halfway
 * between the code before the last change that lowered the figure and after it. KB per stream, chat / raw, before
 * and after the first per-stream heap work (3080338: the stream request became one literal, and the client shared
 * its redactor and parsers and the decoder its closures):
 *
 *   Node 20.20:  before 9.72–9.84 / 7.89–7.93   after 8.11–8.18 / 6.64–6.77
 *   Node 24.22:  before 8.70      / 6.84–6.85   after 7.43      / 5.97–5.98
 *
 * Since each operator subscribes its source with an observer of its own (src/defineOperator.ts), rather than one RxJS
 * wraps in two objects more, a chat stream keeps 7.91 KB on Node 20 and 7.20 KB on Node 24.
 *
 * Since no closure of an open stream keeps its request (src/sse/sseFrames.ts, src/transport/undiciTransport.ts) nor,
 * through its operators' teardowns and the redaction stage, the Observables above it (src/defineOperator.ts,
 * src/redactErrors.ts):
 *
 *   Node 20.20:  before 7.86 / 6.69   after 6.86 / 5.69   budgets 7.4 / 6.2
 *   Node 24.22:  before 7.18 / 5.97   after 6.13 / 5.06   budgets 6.7 / 5.5
 *
 * A major without figures of its own takes those of the newest measured major below it (older: Node 20's); they
 * may then be too loose to reject the old code. The floor catches a measurement that collapses (streams that are
 * not retained, heap noise): no open stream costs less than it.
 */

/** KB per open stream, by Node major. */
const BUDGETS: ReadonlyArray<{ major: number; chat: number; raw: number }> = [
  { major: 24, chat: 6.7, raw: 5.5 },
  { major: 20, chat: 7.4, raw: 6.2 },
];
const runningMajor = Number(process.versions.node.split('.')[0]);
const budget = BUDGETS.find(({ major }) => major <= runningMajor) ?? BUDGETS[BUDGETS.length - 1];
const FLOOR_KB = 3;

let probe: Probe;

beforeAll(async () => {
  probe = await bundleProbe(join(__dirname, '..', 'helpers', 'streamFootprint.ts'));
});

afterAll(() => probe.remove());

/** Heap bytes per open stream of `kind`, each after delivering its first value, counted in a process of its own. */
const bytesPerOpenStream = (kind: 'chat' | 'raw') => probe.run<{ delivered: number; perStream: number }>(kind);

test(`an open chat stream (validated chunks) keeps between ${FLOOR_KB} and ${budget.chat} KB on the heap (Node ${budget.major} budget)`, async () => {
  const { delivered, perStream } = await bytesPerOpenStream('chat');

  expect(delivered).toBe(2000);
  expect(perStream).toBeGreaterThan(FLOOR_KB * 1024);
  expect(perStream).toBeLessThan(budget.chat * 1024);
});

test(`an open raw-frame stream keeps between ${FLOOR_KB} and ${budget.raw} KB on the heap (Node ${budget.major} budget)`, async () => {
  const { delivered, perStream } = await bytesPerOpenStream('raw');

  expect(delivered).toBe(2000);
  expect(perStream).toBeGreaterThan(FLOOR_KB * 1024);
  expect(perStream).toBeLessThan(budget.raw * 1024);
});
