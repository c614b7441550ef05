import type { ClientName } from '../clients.js';
import type { BenchContext } from '../context.js';
import { chunkJson, sseData, TOKEN } from '../protocol.js';
import { int, judge, ms, ratio, spreadText, type Check, type Section } from '../report.js';
import { pairedRatio, rotate, spread, type Spread } from '../stats.js';
import type { ThroughputArgs, ThroughputResult } from '../worker.js';

interface Entry {
  label: string;
  client: ClientName;
  events: number;
}

/** The openai-rx clients judged against the floor, with their targets (events/s ÷ floor). */
const TARGETS: Partial<Record<ClientName, number>> = { 'rx-raw': 0.9, 'rx-chat': 0.75, 'rx-accumulate': 0.6 };
/** The text operators' events/s ÷ chat chunks': at most 5% added. */
const TEXT_TARGET = 0.95;
/** accumulate's events/s on the long answer ÷ on the short one: 1 when the cost per chunk is constant. */
const GROWTH_TARGET = 0.9;

/** events/s of each client on one long answer, repetitions interleaved round-robin, compared with the floor. */
export async function throughputScenario(context: BenchContext): Promise<Section> {
  const { sizes, upstreamBaseURL } = context;
  const events = sizes.throughputEvents;
  const entries: Entry[] = [
    { label: 'floor', client: 'floor', events },
    { label: 'openai SDK', client: 'openai', events },
    { label: 'openai-rx raw frames', client: 'rx-raw', events },
    { label: 'openai-rx chat chunks', client: 'rx-chat', events },
    { label: 'openai-rx accumulate', client: 'rx-accumulate', events },
    { label: 'openai-rx contentDeltas', client: 'rx-content', events },
    { label: 'openai-rx contentDeltas, paceText', client: 'rx-pace', events },
    { label: `openai-rx accumulate, ${int(sizes.shortAnswerEvents)} events`, client: 'rx-accumulate', events: sizes.shortAnswerEvents },
  ];
  const processes = sizes.throughputProcesses;
  const slots = entries.flatMap((entry) => Array.from({ length: processes }, (_, instance) => ({ entry, instance })));
  const run = async ({ entry, instance }: (typeof slots)[number], eventCount: number) =>
    (await context.worker(entry.client, instance)).call<ThroughputResult>('throughput', {
      client: entry.client,
      baseURL: upstreamBaseURL,
      events: eventCount,
    } satisfies ThroughputArgs);

  for (const slot of slots) await run(slot, sizes.warmupEvents);

  // Indexed by repetition, then process: the paired rows compare a client's run with the other's of the same turn.
  const results = new Map<Entry, ThroughputResult[]>(entries.map((entry) => [entry, []]));
  const upstreamCpuBefore = await context.upstreamCpuMs();
  let streamingMs = 0;
  for (let rep = 0; rep < sizes.throughputReps; rep++) {
    for (const slot of rotate(slots, rep * processes)) {
      const result = await run(slot, slot.entry.events);
      streamingMs += result.ms;
      results.get(slot.entry)![rep * processes + slot.instance] = result;
    }
  }
  const upstreamCpu = (await context.upstreamCpuMs()) - upstreamCpuBefore;

  const perSecond = (entry: Entry) => results.get(entry)!.map((result) => result.eventsPerSecond);
  const rate = (entry: Entry): Spread => spread(perSecond(entry));
  const floor = rate(entries[0]);
  const floorPerCpuSecond = spread(results.get(entries[0])!.map((result) => (events / result.cpuMs) * 1000));
  const rows = entries.map((entry) => {
    const eventsPerSecond = rate(entry);
    const perCpuSecond = spread(results.get(entry)!.map((result) => (entry.events / result.cpuMs) * 1000));
    const sameLength = entry.events === events;
    return [
      entry.label,
      spreadText(eventsPerSecond, int),
      sameLength ? ratio(eventsPerSecond.median / floor.median) : '',
      sameLength ? `${ratio(eventsPerSecond.min / floor.median)} – ${ratio(eventsPerSecond.max / floor.median)}` : '',
      int(perCpuSecond.median),
      sameLength ? ratio(perCpuSecond.median / floorPerCpuSecond.median) : '',
    ];
  });

  const checks: Check[] = [];
  const [, , , chat, accumulate, content, paced, shortAccumulate] = entries;
  for (const entry of entries.slice(1, 5)) {
    const value = rate(entry).median / floor.median;
    const target = TARGETS[entry.client];
    checks.push({
      scenario: `throughput, ${int(events)} events`,
      figure: `${entry.label}, events/s ÷ floor`,
      measured: ratio(value),
      target: target === undefined ? 'reference' : `≥ ${target}`,
      ...(target === undefined ? { verdict: 'info' as const } : judge(value, target, 'higher')),
    });
  }
  for (const entry of [content, paced]) {
    const value = rate(entry).median / rate(chat).median;
    checks.push({
      scenario: `throughput, ${int(events)} events`,
      figure: `${entry.label}, events/s ÷ chat chunks`,
      measured: ratio(value),
      target: `≥ ${TEXT_TARGET} (adds ≤ 5%)`,
      ...judge(value, TEXT_TARGET, 'higher'),
    });
    checks.push({
      scenario: `throughput, ${int(events)} events`,
      figure: `${entry.label}, events/s ÷ chat chunks, paired by repetition`,
      measured: ratio(pairedRatio(perSecond(entry), perSecond(chat))),
      target: 'reference (the judged figure, estimated pair by pair)',
      verdict: 'info',
    });
  }
  if (processes > 1) {
    const processMedians = Array.from({ length: processes }, (_, instance) =>
      spread(perSecond(chat).filter((_, index) => index % processes === instance)).median,
    );
    checks.push({
      scenario: `throughput, ${int(events)} events`,
      figure: `${chat.label} in ${processes} processes: the slowest one's median events/s ÷ the fastest one's`,
      measured: ratio(Math.min(...processMedians) / Math.max(...processMedians)),
      target: 'reference (how far processes of the same code differ)',
      verdict: 'info',
    });
  }
  const growth = rate(accumulate).median / rate(shortAccumulate).median;
  checks.push({
    scenario: 'throughput, accumulate',
    figure: `events/s on ${int(events)} events ÷ on ${int(sizes.shortAnswerEvents)}`,
    measured: ratio(growth),
    target: `≥ ${GROWTH_TARGET} (cost per chunk constant)`,
    ...judge(growth, GROWTH_TARGET, 'higher'),
  });

  const dataChars = chunkJson(TOKEN).length;
  return {
    title: `Throughput: ${int(events)} events`,
    setup:
      `One streamed chat completion of ${int(events)} chunks (each \`data:\` line ${dataChars} chars of JSON, ` +
      `${sseData(chunkJson(TOKEN)).length} bytes on the wire, delta \`${TOKEN}\`), written by the upstream in ~64 KB writes as fast ` +
      `as the socket takes them. Each client runs in ${processes} long-lived process${processes > 1 ? 'es' : ''} of its own, ` +
      `${sizes.throughputReps} repetitions each, interleaved round-robin after one warm-up stream per process; a client's ` +
      `repetitions are pooled across its processes. Ratios are of medians; the range divides each client's min and max ` +
      `by the floor's median.`,
    tables: [
      {
        head: ['client', 'events/s median (min – max)', '÷ floor', 'range ÷ floor', 'events per client CPU-second', '÷ floor'],
        rows,
      },
    ],
    notes: [
      'Raw frames parse no JSON, so they may outrun the floor, which does.',
      'Events per CPU-second (the client process\'s user + system time during the stream) shows the same comparison ' +
        'with less sensitivity to other load on the machine than wall-clock events/s.',
      `Upstream CPU: ${ms(upstreamCpu, 0)} while clients streamed for ${ms(streamingMs, 0)} ` +
        `(${((upstreamCpu / streamingMs) * 100).toFixed(0)}% of one core): not the bottleneck.`,
    ],
    checks,
  };
}
