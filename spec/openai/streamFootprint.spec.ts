import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';

/*
 * What an open stream keeps on the heap, counted rather than timed: a process serving many streams at once holds
 * one of these per stream (issue 16: 500 streams at the floor's peak RSS). The transport is an in-memory one, so
 * the figure is openai-rx's own (request, SSE source, decoder, parser, Rx chain), not undici's socket.
 *
 * The count runs in a fresh process (spec/helpers/streamFootprint.ts, bundled by esbuild as the bench's children
 * are): in a jest worker, sockets, timers and bytecode that earlier spec files left are freed between the two
 * readings, and in CI that once took a third off the figure. tsx would not do either: it gives every function an
 * own `name` property, 3.6 KB more per stream.
 *
 * V8 lays objects out differently from one Node major to the next, so the budgets are per major, each halfway
 * between the code before the per-stream heap work (3080338: before the stream request became one literal and the
 * client shared its redactor and parsers and the decoder its closures) and after it. KB per stream, chat / raw:
 *
 *   Node 20.20:  before 9.72–9.84 / 7.89–7.93   after 8.11–8.18 / 6.64–6.77   budgets 8.9 / 7.3
 *   Node 24.22:  before 8.70      / 6.84–6.85   after 7.43      / 5.97–5.98   budgets 8.0 / 6.4
 *
 * A major without figures of its own takes those of the newest measured major below it (older: Node 20's); they
 * may then be too loose to reject the old code. The floor catches a measurement that collapses (streams that are
 * not retained, heap noise): no open stream costs less than it.
 */

const execFileAsync = promisify(execFile);
const REPO_ROOT = join(__dirname, '..', '..');

/** KB per open stream, by Node major. */
const BUDGETS: ReadonlyArray<{ major: number; chat: number; raw: number }> = [
  { major: 24, chat: 8.0, raw: 6.4 },
  { major: 20, chat: 8.9, raw: 7.3 },
];
const runningMajor = Number(process.versions.node.split('.')[0]);
const budget = BUDGETS.find(({ major }) => major <= runningMajor) ?? BUDGETS[BUDGETS.length - 1];
const FLOOR_KB = 3;

let dir: string;
let probe: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'openai-rx-footprint-'));
  probe = join(dir, 'streamFootprint.cjs');
  await build({
    entryPoints: [join(__dirname, '..', 'helpers', 'streamFootprint.ts')],
    outfile: probe,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
});

afterAll(() => rm(dir, { recursive: true, force: true }));

/** Heap bytes per open stream of `kind`, each after delivering its first value, counted in a process of its own. */
async function bytesPerOpenStream(kind: 'chat' | 'raw'): Promise<{ delivered: number; perStream: number }> {
  const { stdout } = await execFileAsync(process.execPath, ['--expose-gc', probe, kind], {
    // The bundle lives outside the checkout; its packages resolve from the checkout's node_modules.
    env: { PATH: process.env.PATH ?? '', NODE_PATH: join(REPO_ROOT, 'node_modules') },
    encoding: 'utf8',
  });
  return JSON.parse(stdout) as { delivered: number; perStream: number };
}

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
