// The relay's timers in virtual time: a fetch relay over a scripted transport has no real I/O, so a VirtualClock
// moved on action by action (with the promise work of each settled before the next) makes every write land on its
// exact frame. Heartbeats, stream timeouts, JSON deadlines, stalled clients and resume mode's abandon, with no real waiting.
import { StreamTimeoutError, type TimeoutPhase } from '../../src/errors';
import { createFetchRelay, type FetchRelayOptions, type RelaySummary } from '../../src/index.node';
import type { StreamTimeouts } from '../../src/sse/types';
import { scriptedTransport, wait, type Script, type ScriptedTransport } from '../../src/testing';
import { watchedList } from '../helpers/changes';
import { VirtualClock } from '../helpers/virtualClock';
import { readUntil } from './relayHelpers';
import { memoryResumeStore } from '../../src/resume/memoryResumeStore';

const event = (name: string) => `data: ${name}\n\n`;
const KEEP_ALIVE = ': keep-alive\n\n';
const JSON_HEADERS = { 'content-type': 'application/json' };

interface VirtualRelay {
  clock: VirtualClock;
  transport: ScriptedTransport;
  summaries: RelaySummary<Request>[];
  /** Sends a request to the relay; resolves with the response and the frame it came at. */
  send(body: object): Promise<{ response: Response; at: number }>;
  /** A GET to the relay (resume mode's re-attach). */
  get(path: string, headers: Record<string, string>): Promise<Response>;
}

function virtualRelay(script: Script, options: FetchRelayOptions = {}, clock = new VirtualClock()): VirtualRelay {
  const transport = scriptedTransport(script, { scheduler: clock });
  const summaries = watchedList<RelaySummary<Request>>();
  const relay = createFetchRelay({
    apiKey: 'sk-relay-timers',
    baseURL: 'https://api.test/v1',
    transport,
    scheduler: clock,
    onSettled: (summary) => summaries.push(summary),
    ...options,
  });
  const send = async (body: object) => {
    const request = new Request('http://relay.test/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [], ...body }),
    });
    const response = await relay(request);
    return { response, at: clock.now() };
  };
  const get = (path: string, headers: Record<string, string>) => relay(new Request(`http://relay.test${path}`, { headers }));
  return { clock, transport, summaries, send, get };
}

/** Reads a body as it comes: the frame and text of each read, and the frame it ended at. */
function timeline(response: Response, clock: VirtualClock): { reads: Array<[frame: number, text: string]>; ended: Promise<number> } {
  const reads: Array<[number, string]> = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const ended = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return clock.now();
      reads.push([clock.now(), decoder.decode(value)]);
    }
  })();
  return { reads, ended };
}

/** Starts a request and plays the clock until the relay answered it. */
async function answered(relay: VirtualRelay, body: object, ms: number) {
  const answer = relay.send(body);
  await relay.clock.play(ms);
  return answer;
}

const states = (transport: ScriptedTransport) => transport.requests.map((request) => request.state);

describe('heartbeat', () => {
  test('a keep-alive after every heartbeatMs of quiet: data postpones it, the end stops it', async () => {
    const relay = virtualRelay({ body: [event('a'), wait(250), event('b'), wait(220)] }, { heartbeatMs: 100 });
    const { response, at } = await answered(relay, { stream: true }, 0);
    expect(at).toBe(0);
    const body = timeline(response, relay.clock);
    await relay.clock.play(1000);
    expect(await body.ended).toBe(470);
    expect(body.reads).toEqual([
      [0, event('a')],
      [100, KEEP_ALIVE],
      [200, KEEP_ALIVE],
      [250, event('b')],
      [350, KEEP_ALIVE],
      [450, KEEP_ALIVE],
    ]);
    // The exchange settled and left no timer: no keep-alive can follow.
    expect(relay.clock.pending()).toBe(0);
    expect(relay.summaries).toEqual([expect.objectContaining({ outcome: 'completed', durationMs: 470, frames: 2 })]);
    expect(states(relay.transport)).toEqual(['completed']);
  });

  test('none while the client is not reading; a client that stays full is dropped after stalledClientMs', async () => {
    // Larger than what the response stream holds (64 KiB): the first write fills it.
    const large = `data: ${'x'.repeat(70_000)}\n\n`;
    const relay = virtualRelay({ body: [large], end: 'hang' }, { heartbeatMs: 100, stalledClientMs: 1000 });
    await answered(relay, { stream: true }, 0);
    await relay.clock.play(999);
    expect(relay.summaries).toEqual([]);
    await relay.clock.play(1);
    // Nine heartbeat periods passed unread: the bytes written are the data's alone, in writes of 64 KiB at most
    // (the first filled the client; the rest was never handed over).
    expect(relay.summaries).toEqual([expect.objectContaining({ outcome: 'client-stalled', durationMs: 1000, bytes: 64 * 1024 })]);
    expect(states(relay.transport)).toEqual(['cancelled']);
    expect(relay.clock.pending()).toBe(0);
  });
});

describe('stream timeouts through the relay', () => {
  test('a stall after the stream started: one error frame at exactly idleMs, and the upstream request cancelled', async () => {
    const relay = virtualRelay({ body: [event('a')], end: 'hang' }, { timeout: { idleMs: 150 } });
    const { response } = await answered(relay, { stream: true }, 0);
    const body = timeline(response, relay.clock);
    await relay.clock.play(1000);
    expect(await body.ended).toBe(150);
    expect(body.reads).toEqual([
      [0, event('a')],
      [150, expect.stringContaining('"code":"upstream_timeout"')],
    ]);
    expect(relay.summaries).toEqual([expect.objectContaining({ outcome: 'timeout', status: 200, durationMs: 150 })]);
    expect(states(relay.transport)).toEqual(['cancelled']);
  });

  test('no response headers within headersMs: 504 at exactly headersMs', async () => {
    const relay = virtualRelay({ headersDelayMs: Infinity }, { timeout: { headersMs: 150 } });
    const { response, at } = await answered(relay, { stream: true }, 1000);
    expect([response.status, at]).toEqual([504, 150]);
    expect(relay.summaries).toEqual([expect.objectContaining({ outcome: 'timeout', status: 504, durationMs: 150 })]);
    expect(states(relay.transport)).toEqual(['cancelled']);
  });
});

describe('JSON deadlines', () => {
  /** The start of upstream's JSON answer, where it stalls. */
  const STALLED_JSON = '{"id":"chatcmpl-1","object":"chat.completion","choices":[';
  const timedOut = (phase: TimeoutPhase, timeoutMs: number) => new StreamTimeoutError({ phase, timeoutMs });

  test.each<{ name: string; timeout: StreamTimeouts; script: Script; at: number; error: StreamTimeoutError }>([
    { name: 'before the response headers', timeout: { headersMs: 150 }, script: { headersDelayMs: Infinity }, at: 150, error: timedOut('headers', 150) },
    {
      name: 'before the body',
      timeout: { firstEventMs: 150 },
      script: { headersDelayMs: 10, headers: JSON_HEADERS, end: 'hang' },
      at: 160,
      error: timedOut('first-event', 150),
    },
    {
      name: 'in the middle of the body',
      timeout: { idleMs: 150 },
      script: { headersDelayMs: 10, headers: JSON_HEADERS, body: [STALLED_JSON], end: 'hang' },
      at: 160,
      error: timedOut('idle', 150),
    },
    {
      name: 'in the middle of the body, idleMs winning over firstEventMs',
      timeout: { firstEventMs: 60_000, idleMs: 150 },
      script: { headersDelayMs: 10, headers: JSON_HEADERS, body: [STALLED_JSON], end: 'hang' },
      at: 160,
      error: timedOut('idle', 150),
    },
    {
      name: 'while the body keeps coming, past totalMs',
      timeout: { idleMs: 100, totalMs: 150 },
      script: { headers: JSON_HEADERS, body: Array.from({ length: 8 }, (_, i) => [STALLED_JSON.slice(i * 5, i * 5 + 5), wait(50)]).flat() },
      at: 150,
      error: timedOut('total', 150),
    },
  ])('upstream stalls $name: 504 at the exact frame, upstream cancelled', async ({ timeout, script, at, error }) => {
    const relay = virtualRelay(script, { timeout });
    const answer = await answered(relay, { stream: false }, 1000);
    expect([answer.response.status, answer.at]).toEqual([504, at]);
    expect(await answer.response.json()).toMatchObject({ error: { code: 'upstream_timeout' } });
    expect(relay.summaries).toEqual([expect.objectContaining({ outcome: 'timeout', status: 504, stream: false, durationMs: at })]);
    expect(relay.summaries[0].error).toBeInstanceOf(StreamTimeoutError);
    expect(relay.summaries[0].error).toMatchObject({ phase: error.phase, timeoutMs: error.timeoutMs });
    expect(states(relay.transport)).toEqual(['cancelled']);
    expect(relay.clock.pending()).toBe(0);
  });

  test('idleMs bounds each gap of a JSON body, not the whole body', async () => {
    const completion = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', padding: 'x'.repeat(70), choices: [] });
    const pieces = completion.match(/.{1,13}/g) ?? [];
    expect(pieces.length).toBeGreaterThanOrEqual(8);
    // A gap of 100 ms before each piece: far longer than idleMs in all, each shorter.
    const relay = virtualRelay({ headers: JSON_HEADERS, body: pieces.flatMap((piece) => [wait(100), piece]) }, { timeout: { headersMs: 150, idleMs: 150 } });
    const { response, at } = await answered(relay, { stream: false }, 10_000);
    expect([response.status, at]).toEqual([200, pieces.length * 100]);
    expect(await response.text()).toBe(completion);
    expect(relay.summaries).toEqual([expect.objectContaining({ outcome: 'completed', durationMs: pieces.length * 100, error: undefined })]);
  });
});

describe('resume mode: abandon', () => {
  const ABANDON_AFTER_MS = 1000;

  /** A resumable generation that sends one event and stays open; its first reader has read that event. */
  async function abandonable() {
    const clock = new VirtualClock();
    const relay = virtualRelay(
      { body: [event('a')], end: 'hang' },
      { heartbeatMs: 0, resume: { store: memoryResumeStore({ scheduler: clock }), abandonAfterMs: ABANDON_AFTER_MS } },
      clock,
    );
    const { response } = await answered(relay, { stream: true }, 0);
    const streamId = response.headers.get('x-stream-id') ?? '';
    const { reader, text } = await readUntil(response, 'id: 1');
    expect(text).toBe('data: a\nid: 1\n\n');
    return { relay, streamId, reader };
  }

  test('a client that left with nobody re-attaching: the upstream request is cancelled exactly abandonAfterMs later', async () => {
    const { relay, reader } = await abandonable();
    await reader.cancel();
    await relay.clock.play(ABANDON_AFTER_MS - 1);
    expect(states(relay.transport)).toEqual(['streaming']);
    expect(relay.summaries).toEqual([]);
    await relay.clock.play(1);
    expect(states(relay.transport)).toEqual(['cancelled']);
    expect(relay.summaries).toEqual([expect.objectContaining({ outcome: 'abandoned', durationMs: ABANDON_AFTER_MS })]);
  });

  test('a reader re-attaching in time keeps the generation; abandonAfterMs counts again from when it leaves', async () => {
    const { relay, streamId, reader } = await abandonable();
    await reader.cancel();
    await relay.clock.play(600);
    const reattached = relay.get(`/v1/streams/${streamId}`, { 'last-event-id': '1' });
    await relay.clock.play(0);
    const again = (await reattached).body!.getReader();
    // Long past the first deadline (1000): the reader holds the generation.
    await relay.clock.play(2 * ABANDON_AFTER_MS);
    expect(states(relay.transport)).toEqual(['streaming']);
    await again.cancel();
    await relay.clock.play(ABANDON_AFTER_MS - 1);
    expect(states(relay.transport)).toEqual(['streaming']);
    await relay.clock.play(1);
    expect(states(relay.transport)).toEqual(['cancelled']);
    const generation = relay.summaries.find((summary) => summary.route === 'chat/completions');
    expect(generation).toMatchObject({ outcome: 'abandoned', durationMs: 600 + 2 * ABANDON_AFTER_MS + ABANDON_AFTER_MS });
  });
});
