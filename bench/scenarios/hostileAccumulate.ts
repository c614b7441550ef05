import { from } from 'rxjs';
import { accumulateChatCompletion, type ChatCompletionChunk } from '../../src/index.node.js';
import { SIZES, type BenchContext } from '../context.js';
import { int, judge, ms, spreadText, type Check, type Section } from '../report.js';
import { rotate, spread, type Spread } from '../stats.js';

/*
 * Hostile input for the accumulator, in this process: one chunk bringing 320,000 tool calls, and 40,000 chunks
 * each adding one. Placement is O(1) per entry (spec/openai/accumulateSnapshots.spec.ts counts the work); this
 * shows what that costs in time, which the unit specs no longer guard.
 */

const LIMIT_MS = 1_000;
const PLANS = { full: { calls: 320_000, chunks: 40_000, reps: 3 }, quick: { calls: 32_000, chunks: 4_000, reps: 1 } };

function toolCall(index: number) {
  return { index, id: `call_${index}`, type: 'function', function: { name: 'f', arguments: '{}' } };
}

function chunkOf(calls: ReturnType<typeof toolCall>[]): ChatCompletionChunk {
  return { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { tool_calls: calls }, finish_reason: null }] } as ChatCompletionChunk;
}

/** Every chunk through a fresh accumulator, synchronously; ms, after checking the last snapshot holds every call. */
function accumulateMs(chunks: ChatCompletionChunk[], calls: number): number {
  let last: { choices: Array<{ message: { tool_calls?: unknown[] } }> } | undefined;
  const start = performance.now();
  from(chunks)
    .pipe(accumulateChatCompletion())
    .subscribe((snapshot) => (last = snapshot as typeof last));
  const elapsed = performance.now() - start;
  if (last?.choices[0].message.tool_calls?.length !== calls) throw new Error('hostile accumulate: the last snapshot misses tool calls');
  return elapsed;
}

export async function hostileAccumulateScenario(context: BenchContext): Promise<Section> {
  const plan = context.sizes === SIZES.quick ? PLANS.quick : PLANS.full;
  const cases: Record<string, { chunks: ChatCompletionChunk[]; calls: number }> = {
    [`${int(plan.calls)} tool calls in one chunk`]: { chunks: [chunkOf(Array.from({ length: plan.calls }, (_, i) => toolCall(i)))], calls: plan.calls },
    [`${int(plan.chunks)} chunks each adding a call`]: { chunks: Array.from({ length: plan.chunks }, (_, i) => chunkOf([toolCall(i)])), calls: plan.chunks },
  };
  const names = Object.keys(cases);
  const samples = new Map<string, number[]>(names.map((name) => [name, []]));
  for (let rep = 0; rep < plan.reps; rep++) {
    for (const name of rotate(names, rep)) samples.get(name)!.push(accumulateMs(cases[name].chunks, cases[name].calls));
  }
  const timed = new Map<string, Spread>(names.map((name) => [name, spread(samples.get(name)!)]));
  const checks: Check[] = names.map((name) => ({
    scenario: `hostile accumulate, ${name}`,
    figure: 'ms to accumulate, median',
    measured: ms(timed.get(name)!.median),
    target: '< 1,000 ms',
    ...judge(timed.get(name)!.median, LIMIT_MS, 'lower'),
  }));
  return {
    title: 'Hostile accumulate',
    setup:
      'In the bench process: `accumulateChatCompletion()` over chunks made in memory, subscribed synchronously, every snapshot made. ' +
      `Medians of ${plan.reps} interleaved repetitions (min – max).`,
    tables: [{ head: ['input', 'ms'], rows: names.map((name) => [name, spreadText(timed.get(name)!, ms)]) }],
    notes: ['Each placement is O(1) and each snapshot shares what did not change; spec/openai/accumulateSnapshots.spec.ts counts the placements and copies, so a regression fails a test.'],
    checks,
  };
}
