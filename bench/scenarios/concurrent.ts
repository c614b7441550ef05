import type { ClientName } from '../clients.js';
import type { BenchContext } from '../context.js';
import { bytes, int, judge, ratio, seconds, spreadText, type Check, type Section } from '../report.js';
import { pairedRatio, rotate, spread } from '../stats.js';
import type { ConcurrentArgs, ConcurrentResult } from '../worker.js';

interface Entry {
  label: string;
  client: ClientName;
}

const ENTRIES: Entry[] = [
  { label: 'floor', client: 'floor' },
  { label: 'openai SDK', client: 'openai' },
  { label: 'openai-rx raw frames', client: 'rx-raw' },
  { label: 'openai-rx chat chunks', client: 'rx-chat' },
  { label: 'openai-rx accumulate', client: 'rx-accumulate' },
];

/** openai-rx chat chunks (the default client) is held to these, against the floor. */
const JUDGED: ClientName = 'rx-chat';
const RSS_TARGET = 1.1;
const CPU_TARGET = 1.15;

/** Many streams at once, each client in a fresh process so that peak RSS and CPU belong to that run alone. */
export async function concurrentScenario(context: BenchContext): Promise<Section> {
  const { sizes, upstreamBaseURL } = context;
  const { concurrentStreams: streams, concurrentEvents: events, concurrentIntervalMs: intervalMs } = sizes;
  const results = new Map<Entry, Array<ConcurrentResult & { upstreamCpuMs: number }>>(ENTRIES.map((entry) => [entry, []]));
  for (let rep = 0; rep < sizes.concurrentReps; rep++) {
    for (const entry of rotate(ENTRIES, rep)) {
      const worker = await context.freshWorker(`concurrent ${entry.client}`);
      try {
        const upstreamBefore = await context.upstreamCpuMs();
        const result = await worker.call<ConcurrentResult>(
          'concurrent',
          { client: entry.client, baseURL: upstreamBaseURL, streams, events, intervalMs } satisfies ConcurrentArgs,
          events * intervalMs * 20 + 120_000,
        );
        results.get(entry)!.push({ ...result, upstreamCpuMs: (await context.upstreamCpuMs()) - upstreamBefore });
      } finally {
        await worker.stop();
      }
    }
  }
  await context.upstream.call('forget');

  type Pick = (result: ConcurrentResult & { upstreamCpuMs: number }) => number;
  const valuesOf = (entry: Entry, pick: Pick) => results.get(entry)!.map(pick);
  const of = (entry: Entry, pick: Pick) => spread(valuesOf(entry, pick));
  const floor = ENTRIES[0];
  const floorRss = of(floor, (result) => result.peakRssBytes).median;
  const floorCpu = of(floor, (result) => result.cpuMs).median;
  const rows = ENTRIES.map((entry) => {
    const rss = of(entry, (result) => result.peakRssBytes);
    const cpu = of(entry, (result) => result.cpuMs);
    return [
      entry.label,
      spreadText(of(entry, (result) => result.wallMs), seconds),
      spreadText(rss, bytes),
      ratio(rss.median / floorRss),
      bytes(of(entry, (result) => result.peakRssBytes - result.startRssBytes).median),
      spreadText(cpu, seconds),
      ratio(cpu.median / floorCpu),
      seconds(of(entry, (result) => result.upstreamCpuMs).median),
    ];
  });

  const judged = ENTRIES.find((entry) => entry.client === JUDGED)!;
  const rssRatio = of(judged, (result) => result.peakRssBytes).median / floorRss;
  const cpuRatio = of(judged, (result) => result.cpuMs).median / floorCpu;
  const scenario = `${int(streams)} concurrent streams × ${int(events)} events`;
  const checks: Check[] = [
    { scenario, figure: `${judged.label}: peak RSS ÷ floor`, measured: ratio(rssRatio), target: `≤ ${RSS_TARGET}`, ...judge(rssRatio, RSS_TARGET, 'lower') },
    { scenario, figure: `${judged.label}: CPU ÷ floor`, measured: ratio(cpuRatio), target: `≤ ${CPU_TARGET}`, ...judge(cpuRatio, CPU_TARGET, 'lower') },
  ];
  const cpuOf = (entry: Entry) => valuesOf(entry, (result) => result.cpuMs);
  checks.push({
    scenario,
    figure: `${judged.label}: CPU ÷ floor, paired by repetition`,
    measured: ratio(pairedRatio(cpuOf(judged), cpuOf(floor))),
    target: 'reference (the judged figure, estimated pair by pair)',
    verdict: 'info',
  });
  for (const entry of ENTRIES.slice(1)) {
    if (entry === judged) continue;
    const rss = of(entry, (result) => result.peakRssBytes).median / floorRss;
    const cpu = of(entry, (result) => result.cpuMs).median / floorCpu;
    checks.push({
      scenario,
      figure: `${entry.label}: peak RSS; CPU ÷ floor`,
      measured: `${ratio(rss)}; ${ratio(cpu)}`,
      target: 'reference',
      verdict: 'info',
    });
  }
  return {
    title: `Concurrency: ${scenario}`,
    setup:
      `${int(streams)} streams opened at once, each ${int(events)} chunks ${intervalMs} ms apart. Every client runs ` +
      `in a fresh process per repetition (${sizes.concurrentReps} per client, round-robin). Peak RSS is the kernel's ` +
      'maxrss of the whole client process (runtime and loaded modules included); CPU is the process\'s user + system ' +
      'time from the first request to the last event.',
    tables: [
      {
        head: ['client', 'wall, median (min – max)', 'peak RSS, median (min – max)', 'RSS ÷ floor', 'RSS growth', 'CPU, median (min – max)', 'CPU ÷ floor', 'upstream CPU'],
        rows,
      },
    ],
    notes: [],
    checks,
  };
}
