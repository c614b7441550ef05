import { cpuMsOf, type BenchContext } from '../context.js';
import { int, judge, ms, ratio, spreadText, type Check, type Section } from '../report.js';
import { percentile, rotate, sortedAscending, spread } from '../stats.js';
import type { LatencyArgs, ThroughputArgs, ThroughputResult } from '../worker.js';

const THROUGHPUT_TARGET = 0.8;
const ADDED_P99_TARGET_MS = 2;
const LATENCY_INTERVAL_MS = 1;

/**
 * The same client (openai-rx raw frames, the cheapest, so that the relay's own cost shows most) reading from the
 * upstream directly and through `createRelay` in its own process.
 */
export async function relayScenario(context: BenchContext): Promise<Section> {
  const { sizes, upstreamBaseURL } = context;
  const relay = await context.startRelay();
  try {
    const paths = [
      { label: 'direct', baseURL: upstreamBaseURL },
      { label: 'through the relay', baseURL: `http://127.0.0.1:${relay.ready.port}/v1` },
    ];
    const worker = await context.worker('rx-raw');
    const events = sizes.throughputEvents;
    const stream = (baseURL: string, eventCount: number) =>
      worker.call<ThroughputResult>('throughput', { client: 'rx-raw', baseURL, events: eventCount } satisfies ThroughputArgs);
    for (const path of paths) await stream(path.baseURL, sizes.warmupEvents);

    const rates = new Map<string, number[]>(paths.map((path) => [path.label, []]));
    const relayCpuBefore = await cpuMsOf(relay);
    const upstreamCpuBefore = await context.upstreamCpuMs();
    let relayedMs = 0;
    for (let rep = 0; rep < sizes.relayReps; rep++) {
      for (const path of rotate(paths, rep)) {
        const result = await stream(path.baseURL, events);
        rates.get(path.label)!.push(result.eventsPerSecond);
        if (path === paths[1]) relayedMs += result.ms;
      }
    }
    const relayCpu = (await cpuMsOf(relay)) - relayCpuBefore;
    const upstreamCpu = (await context.upstreamCpuMs()) - upstreamCpuBefore;

    const latencies = new Map<string, number[]>(paths.map((path) => [path.label, []]));
    for (let rep = 0; rep < sizes.latencyReps; rep++) {
      for (const path of rotate(paths, rep)) {
        const values = await worker.call<number[]>(
          'latency',
          { client: 'rx-raw', baseURL: path.baseURL, events: sizes.latencyEvents, intervalMs: LATENCY_INTERVAL_MS } satisfies LatencyArgs,
          sizes.latencyEvents * LATENCY_INTERVAL_MS * 10 + 60_000,
        );
        latencies.get(path.label)!.push(...values.map((us) => us / 1000));
      }
    }
    await context.upstream.call('forget');

    const direct = spread(rates.get('direct')!);
    const relayed = spread(rates.get('through the relay')!);
    const throughputRatio = relayed.median / direct.median;
    const quantiles = (label: string) => {
      const sorted = sortedAscending(latencies.get(label)!);
      return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1], count: sorted.length };
    };
    const directLatency = quantiles('direct');
    const relayLatency = quantiles('through the relay');
    const addedP50 = relayLatency.p50 - directLatency.p50;
    const addedP99 = relayLatency.p99 - directLatency.p99;

    const checks: Check[] = [
      {
        scenario: 'relay vs direct',
        figure: `throughput through the relay ÷ direct (${int(events)} events)`,
        measured: ratio(throughputRatio),
        target: `≥ ${THROUGHPUT_TARGET}`,
        ...judge(throughputRatio, THROUGHPUT_TARGET, 'higher'),
      },
      {
        scenario: 'relay vs direct',
        figure: 'latency added by the relay per event, p50',
        measured: ms(addedP50, 3),
        target: 'reference',
        verdict: 'info',
      },
      {
        scenario: 'relay vs direct',
        figure: 'latency added by the relay per event, p99',
        measured: ms(addedP99, 3),
        target: `≤ ${ADDED_P99_TARGET_MS} ms`,
        ...judge(addedP99, ADDED_P99_TARGET_MS, 'lower'),
      },
    ];
    return {
      title: 'Relay vs direct',
      setup:
        `openai-rx raw frames reading the upstream directly and through \`createRelay\` (its own process, ` +
        `heartbeats off). Throughput: ${int(events)} chunks, ${sizes.relayReps} repetitions per path, interleaved. ` +
        `Latency: ${int(sizes.latencyEvents)} chunks ${LATENCY_INTERVAL_MS} ms apart, each carrying the upstream's ` +
        `clock when it was written; latency = the client's clock when the frame arrived minus that (${sizes.latencyReps} ` +
        `run(s) per path, interleaved, pooled).`,
      tables: [
        {
          head: ['path', 'events/s median (min – max)', '÷ direct'],
          rows: [
            ['direct', spreadText(direct, int), ratio(1)],
            ['through the relay', spreadText(relayed, int), ratio(throughputRatio)],
          ],
        },
        {
          head: ['path', 'events', 'latency p50', 'p99', 'max'],
          rows: [
            ['direct', int(directLatency.count), ms(directLatency.p50, 3), ms(directLatency.p99, 3), ms(directLatency.max, 3)],
            ['through the relay', int(relayLatency.count), ms(relayLatency.p50, 3), ms(relayLatency.p99, 3), ms(relayLatency.max, 3)],
            ['added by the relay', '', ms(addedP50, 3), ms(addedP99, 3), ''],
          ],
        },
      ],
      notes: [
        `During the relayed throughput runs (${ms(relayedMs, 0)} of streaming, both paths' runs together for the ` +
          `upstream): relay CPU ${ms(relayCpu, 0)}, upstream CPU ${ms(upstreamCpu, 0)}.`,
      ],
      checks,
    };
  } finally {
    await relay.stop();
  }
}
