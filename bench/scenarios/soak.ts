import type { BenchContext } from '../context.js';
import { bytes, int, judge, seconds, type Check, type Section } from '../report.js';
import type { SoakArgs, SoakResult } from '../worker.js';

const HEAP_GROWTH_TARGET = 2 * 1024 * 1024;

/** Subscribe/unsubscribe cycles in a fresh client process with `--expose-gc`: heap after GC and open handles. */
export async function soakScenario(context: BenchContext): Promise<Section> {
  const { sizes, upstreamBaseURL } = context;
  const worker = await context.freshWorker('soak rx-chat', ['--expose-gc']);
  let result: SoakResult;
  try {
    result = await worker.call<SoakResult>(
      'soak',
      { client: 'rx-chat', baseURL: upstreamBaseURL, cycles: sizes.soakCycles, warmupCycles: sizes.soakWarmupCycles } satisfies SoakArgs,
      600_000,
    );
  } finally {
    await worker.stop();
  }
  await context.upstream.call('forget');
  const upstreamSockets = await context.upstream.call<number>('openSockets');

  const growth = result.heapAfterBytes - result.heapBeforeBytes;
  const types = [...new Set([...Object.keys(result.resourcesBefore), ...Object.keys(result.resourcesAfter)])].sort();
  const extra = types.reduce((sum, type) => sum + Math.max(0, (result.resourcesAfter[type] ?? 0) - (result.resourcesBefore[type] ?? 0)), 0);
  const scenario = `soak: ${int(result.cycles)} subscribe/unsubscribe cycles`;
  const checks: Check[] = [
    { scenario, figure: 'heap growth after GC', measured: bytes(growth), target: `≤ ${bytes(HEAP_GROWTH_TARGET)}`, ...judge(growth, HEAP_GROWTH_TARGET, 'lower') },
    { scenario, figure: 'handles left open', measured: int(extra), target: '0', verdict: extra === 0 ? 'pass' : 'FAIL' },
  ];
  const list = (byType: Record<string, number>) =>
    Object.entries(byType)
      .map(([type, count]) => `${type} ${count}`)
      .join(', ') || 'none';
  return {
    title: 'Soak: subscribe/unsubscribe cycles',
    setup:
      `openai-rx chat chunks in a fresh process with \`--expose-gc\`, against a stream that stays open: ` +
      `${int(result.cycles)} cycles after ${int(sizes.soakWarmupCycles)} warm-up ones, odd cycles unsubscribing at ` +
      'once (before the response), even ones at the first chunk. Heap used is taken after GC, before and after; ' +
      'handles are `process.getActiveResourcesInfo()` once the last sockets closed (waited for up to 5 s).',
    tables: [
      {
        head: ['', 'before', 'after'],
        rows: [
          ['heap used after GC', bytes(result.heapBeforeBytes), bytes(result.heapAfterBytes)],
          ['active resources', list(result.resourcesBefore), list(result.resourcesAfter)],
        ],
      },
    ],
    notes: [
      `${int(result.cycles)} cycles took ${seconds(result.ms)}; sockets still open at the upstream afterwards: ${upstreamSockets}.`,
    ],
    checks,
  };
}
