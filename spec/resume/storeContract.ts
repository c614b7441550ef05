import { randomBytes } from 'node:crypto';
import type { ResumeStore, StoredEnding, StoredEntry, StoreReader, StreamRecording } from '../../src/resume/types';

/*
 * The resume store contract, run against every store: what a relay in resume mode relies on, wherever the store
 * keeps its streams. Two stores from one harness share their streams as two relay instances would (the memory
 * store, one process, gives the same store twice).
 */

export interface StoreHarness {
  /** Two stores sharing their streams; closed after each test. */
  stores(config?: { retainMs?: number; maxEntriesPerStream?: number }): Promise<[ResumeStore, ResumeStore]>;
}

export function streamId(): string {
  return randomBytes(16).toString('base64url');
}

export const event = (n: number, text = `{"n":${n}}`): StoredEntry => ({ event: n, bytes: Buffer.from(`data: ${text}\n\n`) });
export const comment = (text: string): StoredEntry => ({ event: 0, bytes: Buffer.from(`: ${text}\n\n`) });

/** Entries as comparable strings: `event|bytes`. */
export const shown = (entries: StoredEntry[]): string[] =>
  entries.map(({ event: n, bytes }) => `${n}|${Buffer.from(bytes).toString('latin1')}`);

/** Reads until the ending (at most `maxReads` reads): every entry, then how it ended. */
export async function readToEnd(reader: StoreReader, maxReads = 10_000): Promise<{ entries: StoredEntry[]; ending: StoredEnding | 'lost' }> {
  const entries: StoredEntry[] = [];
  for (let reads = 0; reads < maxReads; reads++) {
    const read = await reader.next();
    entries.push(...read.entries);
    if (read.ending) return { entries, ending: read.ending };
  }
  throw new Error(`no ending after ${maxReads} reads`);
}

/** Reads until `count` entries arrived (the relay's own reader: they are in the store now). */
export async function readCount(reader: StoreReader, count: number): Promise<StoredEntry[]> {
  const entries: StoredEntry[] = [];
  for (let reads = 0; entries.length < count && reads < 10_000; reads++) {
    const read = await reader.next();
    entries.push(...read.entries);
    if (read.ending) break;
  }
  return entries;
}

export async function openReader(store: ResumeStore, id: string, afterEvent: number): Promise<StoreReader> {
  const reader = await store.read(id, afterEvent);
  if (typeof reader === 'string') throw new Error(`read(${afterEvent}) failed: ${reader}`);
  return reader;
}

/** Polls `check` every 20 ms until it holds, for at most `timeoutMs` (for what has no event: a key's expiry). */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Before event 1, between events, binary bytes (not UTF-8), several comments in a row: every kind of gap. */
const STORED: StoredEntry[] = [
  comment('before 1'),
  event(1),
  event(2, '"\u00e9"'),
  comment('a'),
  event(3),
  { event: 4, bytes: Uint8Array.from([0x64, 0x61, 0x74, 0x61, 0x3a, 0x20, 0xff, 0x00, 0xfe, 0x0a, 0x0a]) },
  comment('b'),
  comment('c'),
  event(5),
  event(6),
  comment('after 6'),
];
const LIVE: StoredEntry[] = [event(7), comment('d'), event(8)];
const ENDING: StoredEnding = { outcome: 'upstream-error', frame: Uint8Array.from([...Buffer.from('data: {"error":1}\n\n'), 0xff]) };

/** The entries after event `n` in `entries`. */
function after(entries: StoredEntry[], n: number): StoredEntry[] {
  if (n === 0) return entries;
  return entries.slice(entries.findIndex((entry) => entry.event === n) + 1);
}

export function resumeStoreContract(harness: StoreHarness): void {
  const open: ResumeStore[] = [];
  const stores = async (config?: Parameters<StoreHarness['stores']>[0]) => {
    const pair = await harness.stores(config);
    open.push(...pair);
    return pair;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((store) => store.close()));
  });

  /** A stream on `owner` holding STORED, every entry in the store (read back by the owner's own reader). */
  async function storedStream(owner: ResumeStore, id = streamId()): Promise<{ id: string; recording: StreamRecording }> {
    const recording = await owner.create(id, { createdAt: 1_700_000_000_000, user: 'u-1' });
    recording.append(STORED);
    const own = await openReader(owner, id, 0);
    expect(shown(await readCount(own, STORED.length))).toEqual(shown(STORED));
    own.close();
    return { id, recording };
  }

  describe('resume after event n', () => {
    test.each([
      ['0 (the start)', 0],
      ['3 (the middle)', 3],
      ['6 (the last so far)', 6],
    ])('after %s: the entries after it, then the live ones, then the ending, on another instance', async (_name, n) => {
      const [owner, other] = await stores();
      const { id, recording } = await storedStream(owner);
      const reader = await openReader(other, id, n);
      recording.append(LIVE.slice(0, 1));
      recording.append(LIVE.slice(1));
      await recording.finish(ENDING);
      const { entries, ending } = await readToEnd(reader);
      expect(shown(entries)).toEqual(shown(after([...STORED, ...LIVE], n)));
      expect(ending).toEqual({ outcome: ENDING.outcome, frame: expect.anything() });
      expect(Buffer.from((ending as StoredEnding).frame!)).toEqual(Buffer.from(ENDING.frame!));
      reader.close();
      recording.release();
    });

    test('after the end (within retainMs): the entries after n then the ending; after the last event only the ending', async () => {
      const [owner, other] = await stores();
      const { id, recording } = await storedStream(owner);
      recording.append(LIVE);
      await recording.finish({ outcome: 'completed' });
      recording.release();
      const fromFive = await readToEnd(await openReader(other, id, 5));
      expect(shown(fromFive.entries)).toEqual(shown(after([...STORED, ...LIVE], 5)));
      expect(fromFive.ending).toEqual({ outcome: 'completed' });
      const fromLast = await openReader(other, id, 8);
      expect(await fromLast.next()).toEqual({ entries: [], ending: { outcome: 'completed' } });
      fromLast.close();
    });

    test('a reader waiting for more gets each live append as it comes', async () => {
      const [owner, other] = await stores();
      const { id, recording } = await storedStream(owner);
      const reader = await openReader(other, id, 6);
      expect(shown(await readCount(reader, 1))).toEqual(shown([comment('after 6')]));
      const waiting = reader.next();
      recording.append([event(7)]);
      expect(shown((await waiting).entries)).toEqual(shown([event(7)]));
      reader.close();
      recording.release();
    });

    test("a closed reader's pending next() settles, with nothing", async () => {
      const [owner, other] = await stores();
      const { id, recording } = await storedStream(owner);
      const reader = await openReader(other, id, 6);
      await readCount(reader, 1);
      const waiting = reader.next();
      reader.close();
      expect(await waiting).toEqual({ entries: [] });
      recording.release();
    });
  });

  describe('meta and failures to open', () => {
    test('meta: the user and createdAt given at create, from any instance', async () => {
      const [owner, other] = await stores();
      const { id, recording } = await storedStream(owner);
      expect(await other.meta(id)).toEqual({ user: 'u-1', createdAt: 1_700_000_000_000 });
      const anonymous = streamId();
      (await owner.create(anonymous, { createdAt: 5 })).release();
      expect(await other.meta(anonymous)).toEqual({ createdAt: 5 });
      recording.release();
    });

    test('unknown: no such stream', async () => {
      const [, other] = await stores();
      expect(await other.read(streamId(), 0)).toBe('unknown');
      expect(await other.meta(streamId())).toBeUndefined();
      expect(await other.cancel(streamId())).toBe('unknown');
    });

    test('a second create with the same id fails', async () => {
      const [owner, other] = await stores();
      const { id, recording } = await storedStream(owner);
      await expect(other.create(id, { createdAt: 1 })).rejects.toThrow('exists already');
      recording.release();
    });

    test('ahead: after an event past the last one', async () => {
      const [owner, other] = await stores();
      const { id, recording } = await storedStream(owner);
      expect(await other.read(id, 7)).toBe('ahead');
      recording.append(LIVE);
      await recording.finish({ outcome: 'completed' });
      expect(await other.read(id, 9)).toBe('ahead');
      recording.release();
    });

    test('expired: retainMs after the end the stream is unknown, and readable until then', async () => {
      const retainMs = 400;
      const [owner, other] = await stores({ retainMs });
      const { id, recording } = await storedStream(owner);
      await recording.finish({ outcome: 'completed' });
      const finishedAt = Date.now();
      recording.release();
      const reader = await openReader(other, id, 0);
      expect((await readToEnd(reader)).ending).toEqual({ outcome: 'completed' });
      reader.close();
      await eventually(async () => (await other.meta(id)) === undefined, retainMs + 5_000);
      expect(Date.now() - finishedAt).toBeGreaterThanOrEqual(retainMs - 50);
      expect(await other.read(id, 0)).toBe('unknown');
      expect(await other.cancel(id)).toBe('unknown');
    });

    test('evicted: past maxEntriesPerStream the oldest entries go; a reader before them is told so', async () => {
      const [owner, other] = await stores({ maxEntriesPerStream: 100 });
      const id = streamId();
      const recording = await owner.create(id, { createdAt: 1 });
      const early = await openReader(other, id, 0);
      for (let n = 1; n <= 600; n++) recording.append([event(n)]);
      await recording.finish({ outcome: 'completed' });
      expect(await other.read(id, 0)).toBe('evicted');
      expect(await other.read(id, 1)).toBe('evicted');
      const late = await readToEnd(await openReader(other, id, 595));
      expect(shown(late.entries)).toEqual(shown([596, 597, 598, 599, 600].map((n) => event(n))));
      expect(await early.next()).toEqual({ entries: [], ending: { outcome: 'evicted' } });
      early.close();
      recording.release();
    });
  });

  describe('cancel', () => {
    test('reaches the owner from another instance; then finished once it ended', async () => {
      const [owner, other] = await stores();
      const { id, recording } = await storedStream(owner);
      const cancelled = new Promise<void>((resolve) => recording.onCancel(resolve));
      expect(await other.cancel(id)).toBe('cancelling');
      await cancelled;
      await recording.finish({ outcome: 'cancelled' });
      recording.release();
      expect(await other.cancel(id)).toBe('finished');
      expect(await owner.cancel(id)).toBe('finished');
    });

    test('onCancel runs once, however many cancels arrive', async () => {
      const [owner] = await stores();
      const { id, recording } = await storedStream(owner);
      let calls = 0;
      recording.onCancel(() => calls++);
      expect(await owner.cancel(id)).toBe('cancelling');
      expect(await owner.cancel(id)).toBe('cancelling');
      expect(calls).toBe(1);
      recording.release();
    });

    test('readers see the ending the owner stores on cancel', async () => {
      const [owner, other] = await stores();
      const { id, recording } = await storedStream(owner);
      const reader = await openReader(other, id, 6);
      recording.onCancel(() => void recording.finish({ outcome: 'cancelled', frame: Buffer.from('data: {"error":{"code":"stream_cancelled"}}\n\n') }));
      expect(await owner.cancel(id)).toBe('cancelling');
      const { entries, ending } = await readToEnd(reader);
      expect(shown(entries)).toEqual(shown([comment('after 6')]));
      expect((ending as StoredEnding).outcome).toBe('cancelled');
      reader.close();
      recording.release();
    });
  });

  describe('abandon', () => {
    const abandonAfterMs = 300;

    test('fires abandonAfterMs after it is watched when no reader is attached', async () => {
      const [owner] = await stores();
      const { recording } = await storedStream(owner);
      const watchedAt = Date.now();
      await new Promise<void>((resolve) => recording.onAbandoned(abandonAfterMs, resolve));
      expect(Date.now() - watchedAt).toBeGreaterThanOrEqual(abandonAfterMs - 5);
      recording.release();
    });

    test.each([
      ['on the owner', 0],
      ['on another instance', 1],
    ])('does not fire while a reader %s is attached; fires abandonAfterMs after it left', async (_where, which) => {
      const pair = await stores();
      const { id, recording } = await storedStream(pair[0]);
      const reader = await openReader(pair[which], id, 0);
      let firedAt = 0;
      const fired = new Promise<void>((resolve) =>
        recording.onAbandoned(abandonAfterMs, () => {
          firedAt = Date.now();
          resolve();
        }),
      );
      // Attached three times as long as the abandon delay.
      await pause(3 * abandonAfterMs);
      const leftAt = Date.now();
      reader.close();
      await fired;
      expect(firedAt - leftAt).toBeGreaterThanOrEqual(abandonAfterMs - 5);
      recording.release();
    });
  });
}
