import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientName } from '../clients.js';
import type { BenchContext } from '../context.js';
import type { UpstreamPlan } from '../protocol.js';
import { int, judge, ms, spreadText, type Check, type Section } from '../report.js';
import { rotate, spread } from '../stats.js';
import type { StreamStats } from '../upstream.js';
import type { CancelArgs, CancelResult } from '../worker.js';

interface Entry {
  label: string;
  client: ClientName;
  /** openai-rx's own clients are held to the targets; the others are reference figures. */
  judged: boolean;
}

const ENTRIES: Entry[] = [
  { label: 'floor (flag + abort)', client: 'floor', judged: false },
  { label: 'openai SDK, break', client: 'openai', judged: false },
  { label: 'openai SDK, stream.controller.abort()', client: 'openai-abort', judged: false },
  { label: 'openai-rx raw frames, unsubscribe', client: 'rx-raw', judged: true },
  { label: 'openai-rx chat chunks, unsubscribe', client: 'rx-chat', judged: true },
];

const MEDIAN_TARGET_MS = 1;
const MAX_TARGET_MS = 3;
/** How long a worker keeps counting deliveries after its cancel. */
const SETTLE_MS = 25;

export const bufferedCancelScenario = (context: BenchContext) =>
  cancelScenario(context, {
    name: 'buffered cancel',
    plan: { mode: 'buffered', events: 50 },
    cancelAfter: 1,
    setup:
      'The upstream writes 50 chunks in one write and keeps the response open; each client cancels when the first ' +
      'value arrives, so 49 more are already in its buffers.',
  });

export const pacedCancelScenario = (context: BenchContext) =>
  cancelScenario(context, {
    name: 'paced cancel',
    plan: { mode: 'paced', events: 0, intervalMs: 1 },
    cancelAfter: 20,
    setup: 'The upstream writes one chunk per millisecond without end; each client cancels when the 20th value arrives.',
  });

interface CancelConfig {
  name: string;
  plan: UpstreamPlan;
  cancelAfter: number;
  setup: string;
}

async function cancelScenario(context: BenchContext, config: CancelConfig): Promise<Section> {
  const { sizes, upstream, upstreamBaseURL } = context;
  const results = new Map<Entry, Array<CancelResult & { closeMs: number }>>(ENTRIES.map((entry) => [entry, []]));
  const runOnce = async (entry: Entry) => {
    const worker = await context.worker(entry.client);
    const result = await worker.call<CancelResult>('cancel', {
      client: entry.client,
      baseURL: upstreamBaseURL,
      plan: config.plan,
      cancelAfter: config.cancelAfter,
      settleMs: SETTLE_MS,
    } satisfies CancelArgs);
    const closedAtUs = await closeTimeOf(context, result.runId);
    return { ...result, closeMs: (closedAtUs - result.cancelAtUs) / 1000 };
  };
  for (const entry of ENTRIES) await runOnce(entry);
  for (let rep = 0; rep < sizes.cancelReps; rep++) {
    for (const entry of rotate(ENTRIES, rep)) results.get(entry)!.push(await runOnce(entry));
  }
  await upstream.call('forget');

  const checks: Check[] = [];
  const rows = ENTRIES.map((entry) => {
    const runs = results.get(entry)!;
    const after = spread(runs.map((run) => run.deliveredAfterCancel));
    const close = spread(runs.map((run) => run.closeMs));
    const runsWithLateEvents = runs.filter((run) => run.deliveredAfterCancel > 0).length;
    const ends = [...new Set(runs.map((run) => run.endAfterCancel ?? 'nothing'))].join(', ');
    if (entry.judged) {
      checks.push(
        {
          scenario: config.name,
          figure: `${entry.label}: events delivered after cancel`,
          measured: `max ${int(after.max)} in ${runs.length} runs`,
          target: '0 in every run',
          verdict: after.max === 0 ? 'pass' : 'FAIL',
        },
        {
          scenario: config.name,
          figure: `${entry.label}: ms to upstream socket close, median`,
          measured: ms(close.median),
          target: `≤ ${MEDIAN_TARGET_MS} ms`,
          ...judge(close.median, MEDIAN_TARGET_MS, 'lower'),
        },
        {
          scenario: config.name,
          figure: `${entry.label}: ms to upstream socket close, max`,
          measured: ms(close.max),
          target: `≤ ${MAX_TARGET_MS} ms`,
          ...judge(close.max, MAX_TARGET_MS, 'lower'),
        },
      );
    } else if (entry.client.startsWith('openai')) {
      checks.push({
        scenario: config.name,
        figure: `${entry.label}: events after cancel; ms to close median / max`,
        measured: `max ${int(after.max)}; ${ms(close.median)} / ${ms(close.max)}`,
        target: 'reference',
        verdict: 'info',
      });
    }
    return [
      entry.label,
      `${int(after.max)} (in ${runsWithLateEvents} of ${runs.length} runs)`,
      spreadText(close, (value) => value.toFixed(2)),
      ends,
    ];
  });
  return {
    title: `${config.name[0].toUpperCase()}${config.name.slice(1)}`,
    setup:
      `${config.setup} ${sizes.cancelReps} runs per client, interleaved round-robin after one warm-up run each. ` +
      '"Close" is the time from the cancel (taken in the client process just before it) to the moment the upstream ' +
      'saw the socket close, on the clock both processes share.',
    tables: [
      {
        head: ['client', 'events delivered after cancel, max', 'ms to upstream socket close, median (min – max)', 'what the client reported after the cancel'],
        rows,
      },
    ],
    notes: [],
    checks,
  };
}

/** Polls the upstream until it saw the socket of `runId` close; bounded. */
async function closeTimeOf(context: BenchContext, runId: string): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const stats = await context.upstream.call<StreamStats | undefined>('stream', { runId });
    if (stats?.closedAtUs !== undefined) return stats.closedAtUs;
    await sleep(10);
  }
  throw new Error(`the upstream socket of ${runId} did not close within 2 s of the cancel`);
}
