import type { ClientName } from '../clients.js';
import { cpuMsOf, type BenchContext } from '../context.js';
import { int, judge, ms, ratio, spreadText, type Check, type Section } from '../report.js';
import { percentile, rotate, sortedAscending, spread } from '../stats.js';
import type { LatencyArgs, ThroughputArgs, ThroughputResult } from '../worker.js';

const THROUGHPUT_TARGET = 0.9;
const ADDED_P99_TARGET_MS = 2;
const LATENCY_INTERVAL_MS = 1;

/** The client whose throughput ratio and latency are judged: what an app behind the relay runs. */
const JUDGED: ClientName = 'rx-chat';
/** Also measured, as a reference: the cheapest client, which shows the relay's own cost most. */
const REFERENCE: ClientName = 'rx-raw';
const LABELS: Record<string, string> = { 'rx-chat': 'openai-rx chat chunks', 'rx-raw': 'openai-rx raw frames' };

interface Path {
  client: ClientName;
  /** Through the relay; `on-frame`: through a relay with an `onFrame` hook. */
  relayed: false | true | 'on-frame';
  baseURL: string;
}

/**
 * The same clients reading the upstream directly and through `createRelay` in its own process: throughput of
 * each client both ways (interleaved), and per-event latency of the judged client both ways.
 */
export async function relayScenario(context: BenchContext): Promise<Section> {
  const { sizes, upstreamBaseURL } = context;
  const relay = await context.startRelay();
  const auditedRelay = await context.startRelay({ onFrame: true });
  try {
    const relayBaseURL = `http://127.0.0.1:${relay.ready.port}/v1`;
    const paths: Path[] = [
      ...[JUDGED, REFERENCE].flatMap((client) => [
        { client, relayed: false, baseURL: upstreamBaseURL } as const,
        { client, relayed: true, baseURL: relayBaseURL } as const,
      ]),
      { client: JUDGED, relayed: 'on-frame', baseURL: `http://127.0.0.1:${auditedRelay.ready.port}/v1` },
    ];
    const events = sizes.throughputEvents;
    const stream = async (path: Path, eventCount: number) =>
      (await context.worker(path.client)).call<ThroughputResult>('throughput', {
        client: path.client,
        baseURL: path.baseURL,
        events: eventCount,
      } satisfies ThroughputArgs);
    for (const path of paths) await stream(path, sizes.warmupEvents);

    const rates = new Map<Path, number[]>(paths.map((path) => [path, []]));
    const relayCpuBefore = await cpuMsOf(relay);
    const upstreamCpuBefore = await context.upstreamCpuMs();
    let relayedMs = 0;
    let allMs = 0;
    for (let rep = 0; rep < sizes.relayReps; rep++) {
      for (const path of rotate(paths, rep)) {
        const result = await stream(path, events);
        rates.get(path)!.push(result.eventsPerSecond);
        allMs += result.ms;
        if (path.relayed === true) relayedMs += result.ms;
      }
    }
    const relayCpu = (await cpuMsOf(relay)) - relayCpuBefore;
    const upstreamCpu = (await context.upstreamCpuMs()) - upstreamCpuBefore;

    // Both paths at once in one client process, event by event: the difference for the same event leaves out
    // whatever delayed the client process itself (other load on the machine hits both streams alike).
    const latencies = { direct: [] as number[], relayed: [] as number[], added: [] as number[] };
    const latencyWorker = await context.worker(JUDGED);
    for (let rep = 0; rep < sizes.latencyReps; rep++) {
      const [direct, relayed] = await latencyWorker.call<number[][]>(
        'latency',
        {
          client: JUDGED,
          baseURLs: [upstreamBaseURL, relayBaseURL],
          events: sizes.latencyEvents,
          intervalMs: LATENCY_INTERVAL_MS,
        } satisfies LatencyArgs,
        sizes.latencyEvents * LATENCY_INTERVAL_MS * 10 + 60_000,
      );
      latencies.direct.push(...direct.map((us) => us / 1000));
      latencies.relayed.push(...relayed.map((us) => us / 1000));
      const paired = Math.min(direct.length, relayed.length);
      for (let i = 0; i < paired; i++) latencies.added.push((relayed[i] - direct[i]) / 1000);
    }
    await context.upstream.call('forget');

    const rateOf = (client: ClientName, relayed: Path['relayed']) =>
      spread(rates.get(paths.find((path) => path.client === client && path.relayed === relayed)!)!);
    const throughputRows: string[][] = [];
    const ratios = new Map<ClientName, number>();
    for (const client of [JUDGED, REFERENCE]) {
      const direct = rateOf(client, false);
      const relayed = rateOf(client, true);
      ratios.set(client, relayed.median / direct.median);
      throughputRows.push(
        [LABELS[client], 'direct', spreadText(direct, int), ratio(1)],
        [LABELS[client], 'through the relay', spreadText(relayed, int), ratio(relayed.median / direct.median)],
      );
    }
    const quantiles = (values: number[]) => {
      const sorted = sortedAscending(values);
      return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1], count: sorted.length };
    };
    const directLatency = quantiles(latencies.direct);
    const relayLatency = quantiles(latencies.relayed);
    const added = quantiles(latencies.added);
    const addedP50 = added.p50;
    const addedP99 = added.p99;
    const judgedRatio = ratios.get(JUDGED)!;
    const audited = rateOf(JUDGED, 'on-frame');
    const auditedRatio = audited.median / rateOf(JUDGED, false).median;
    throughputRows.splice(2, 0, [LABELS[JUDGED], 'through a relay with onFrame', spreadText(audited, int), ratio(auditedRatio)]);
    const auditedEvents = await auditedRelay.call<number>('events');

    const checks: Check[] = [
      {
        scenario: 'relay vs direct',
        figure: `${LABELS[JUDGED]}: events/s through the relay ÷ direct`,
        measured: ratio(judgedRatio),
        target: `≥ ${THROUGHPUT_TARGET}`,
        ...judge(judgedRatio, THROUGHPUT_TARGET, 'higher'),
      },
      {
        scenario: 'relay vs direct',
        figure: `${LABELS[JUDGED]}: events/s through a relay with onFrame ÷ direct`,
        measured: ratio(auditedRatio),
        target: `≥ ${THROUGHPUT_TARGET}`,
        ...judge(auditedRatio, THROUGHPUT_TARGET, 'higher'),
      },
      {
        scenario: 'relay vs direct',
        figure: `${LABELS[REFERENCE]}: events/s through the relay ÷ direct`,
        measured: ratio(ratios.get(REFERENCE)!),
        target: 'reference',
        verdict: 'info',
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
        `Clients reading the upstream directly and through \`createRelay\` (its own process, heartbeats off), and the judged ` +
        `client through a second relay process whose \`onFrame\` hook counts the events (it saw ${int(auditedEvents)}). ` +
        `Throughput: ${int(events)} chunks, ${sizes.relayReps} repetitions per client and path, interleaved. ` +
        `Latency (${LABELS[JUDGED]}): one client process reads two streams at once, one direct and one relayed, ` +
        `each ${int(sizes.latencyEvents)} chunks ${LATENCY_INTERVAL_MS} ms apart carrying the upstream's clock when ` +
        `written; latency = the client's clock on arrival minus that; the relay's addition is taken event by event ` +
        `(relayed − direct for the n-th chunk of both streams), ${sizes.latencyReps} run(s) pooled.`,
      tables: [
        { head: ['client', 'path', 'events/s median (min – max)', '÷ direct'], rows: throughputRows },
        {
          head: ['path', 'events', 'latency p50', 'p99', 'max'],
          rows: [
            ['direct', int(directLatency.count), ms(directLatency.p50, 3), ms(directLatency.p99, 3), ms(directLatency.max, 3)],
            ['through the relay', int(relayLatency.count), ms(relayLatency.p50, 3), ms(relayLatency.p99, 3), ms(relayLatency.max, 3)],
            ['added by the relay (same event, relayed − direct)', int(added.count), ms(addedP50, 3), ms(addedP99, 3), ms(added.max, 3)],
          ],
        },
      ],
      notes: [
        `Relay CPU ${ms(relayCpu, 0)} during ${ms(relayedMs, 0)} of relayed streaming ` +
          `(${((relayCpu / relayedMs) * 100).toFixed(0)}% of one core; ` +
          `${((relayCpu * 1000) / (sizes.relayReps * 2 * events)).toFixed(2)} µs per relayed event); upstream CPU ${ms(upstreamCpu, 0)} during ` +
          `${ms(allMs, 0)} of streaming on both paths (${((upstreamCpu / allMs) * 100).toFixed(0)}%).`,
      ],
      checks,
    };
  } finally {
    await relay.stop();
    await auditedRelay.stop();
  }
}
