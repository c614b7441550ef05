import { request, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchContext } from '../context.js';
import { chunkJson, requestBody, sseData, type UpstreamPlan } from '../protocol.js';
import { bytes, judge, ms, seconds, type Check, type Section } from '../report.js';
import type { StreamStats } from '../upstream.js';

const RSS_GROWTH_TARGET = 32 * 1024 * 1024;
const CONTENT_CHARS = 1000;
const READ_BYTES = 100;
const READ_EVERY_MS = 100;

/**
 * A fast upstream answer of ~20 MB relayed to a client that reads 1 KB/s. For a bounded time: the relay's resident
 * memory is sampled, and the upstream reports how much it could write, which stops once the relay stops reading.
 */
export async function slowClientScenario(context: BenchContext): Promise<Section> {
  const { sizes, upstream } = context;
  const relay = await context.startRelay();
  try {
    const port = relay.ready.port;
    const warmup = await post(port, { mode: 'burst', events: 2_000 }, 'slow-client-warmup');
    warmup.resume();
    await once(warmup, 'end');
    await sleep(200);
    const baselineRss = await relay.call<number>('rss');

    const eventBytes = Buffer.byteLength(sseData(chunkJson('x'.repeat(CONTENT_CHARS))));
    const events = Math.ceil(sizes.slowUpstreamBytes / eventBytes);
    const runId = `slow-client-${process.pid}-${Date.now()}`;
    const response = await post(port, { mode: 'burst', events, contentChars: CONTENT_CHARS }, runId);
    const durationMs = sizes.slowClientSeconds * 1000;
    const startedAt = performance.now();
    let read = 0;
    let peakRss = baselineRss;
    let halfway: StreamStats | undefined;
    // Paused mode: nothing is read from the socket beyond the stream's small buffer unless read() asks for it.
    while (performance.now() - startedAt < durationMs) {
      await sleep(READ_EVERY_MS);
      const chunk = response.read(READ_BYTES) as Buffer | null;
      if (chunk) read += chunk.byteLength;
      peakRss = Math.max(peakRss, await relay.call<number>('rss'));
      if (!halfway && performance.now() - startedAt >= durationMs / 2) halfway = await streamStats(context, runId);
    }
    const atEnd = await streamStats(context, runId);
    const elapsedMs = performance.now() - startedAt;

    response.destroy();
    const closedAt = await waitForClose(context, runId);
    const closeAfterMs = closedAt === undefined ? undefined : closedAt.waitedMs;
    await upstream.call('forget');

    const growth = peakRss - baselineRss;
    const total = events * eventBytes;
    const stalled = atEnd.waitingForDrain && atEnd.bytes < total;
    const checks: Check[] = [
      {
        scenario: 'relay, slow client (1 KB/s), fast 20 MB upstream',
        figure: 'relay RSS growth',
        measured: bytes(growth),
        target: `≤ ${bytes(RSS_GROWTH_TARGET)}`,
        ...judge(growth, RSS_GROWTH_TARGET, 'lower'),
      },
      {
        scenario: 'relay, slow client (1 KB/s), fast 20 MB upstream',
        figure: 'the relay stopped reading upstream',
        measured: `upstream wrote ${bytes(atEnd.bytes)} of ${bytes(total)}${atEnd.waitingForDrain ? ', blocked on drain' : ''}`,
        target: 'upstream blocked before the end',
        verdict: stalled ? 'pass' : 'miss',
      },
    ];
    return {
      title: 'Relay with a slow client',
      setup:
        `The upstream answers with ${events.toLocaleString('en-US')} chunks of ${eventBytes} bytes (${bytes(total)}) as ` +
        `fast as its socket takes them; the client reads ${READ_BYTES} bytes every ${READ_EVERY_MS} ms through ` +
        `\`createRelay\` (its own process) for ${seconds(durationMs)}, then leaves. The relay's RSS is sampled every ` +
        `${READ_EVERY_MS} ms against its RSS after a warm-up stream.`,
      tables: [
        {
          head: ['', ''],
          rows: [
            ['relay RSS before → peak', `${bytes(baselineRss)} → ${bytes(peakRss)} (growth ${bytes(growth)})`],
            ['client read', `${bytes(read)} in ${seconds(elapsedMs)}`],
            ['upstream written at half time', halfway ? `${bytes(halfway.bytes)}${halfway.waitingForDrain ? ', blocked on drain' : ''}` : 'n/a'],
            ['upstream written at the end', `${bytes(atEnd.bytes)}${atEnd.waitingForDrain ? ', blocked on drain' : ''}`],
            ['upstream socket closed after the client left', closeAfterMs === undefined ? 'not within 5 s' : `within ${ms(closeAfterMs, 0)}`],
          ],
        },
      ],
      notes: [
        'What the upstream wrote beyond what the client read sits in kernel socket buffers (loopback autotuning, ' +
          'both hops) and in the relay\'s bounded stream buffers; once they are full the upstream waits for drain.',
      ],
      checks,
    };
  } finally {
    await relay.stop();
  }
}

async function post(port: number, plan: UpstreamPlan, runId: string): Promise<IncomingMessage> {
  const req = request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' } });
  req.end(JSON.stringify(requestBody({ bench: plan, runId })));
  const [response] = (await once(req, 'response')) as [IncomingMessage];
  if (response.statusCode !== 200) throw new Error(`the relay answered ${response.statusCode}`);
  return response;
}

async function streamStats(context: BenchContext, runId: string): Promise<StreamStats> {
  const stats = await context.upstream.call<StreamStats | undefined>('stream', { runId });
  if (!stats) throw new Error(`the upstream never saw ${runId}`);
  return stats;
}

async function waitForClose(context: BenchContext, runId: string): Promise<{ waitedMs: number } | undefined> {
  const startedAt = performance.now();
  while (performance.now() - startedAt < 5_000) {
    if ((await streamStats(context, runId)).closedAtUs !== undefined) return { waitedMs: performance.now() - startedAt };
    await sleep(10);
  }
  return undefined;
}
