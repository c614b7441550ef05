import { memoryResumeStore, type MemoryResumeStoreConfig } from '../../src/resume/memoryResumeStore';
import type { StoredEntry } from '../../src/resume/types';
import { comment, event, openReader, readCount, readToEnd, resumeStoreContract, shown, streamId } from './storeContract';

describe('memoryResumeStore', () => {
  resumeStoreContract({
    async stores(config) {
      // One process: both "instances" are the same store.
      const store = memoryResumeStore(config);
      return [store, store];
    },
  });

  test('lost: a reader of a stream the closed store dropped unfinished ends with lost; the owner is told', async () => {
    const store = memoryResumeStore();
    const id = streamId();
    const recording = await store.create(id, { createdAt: 1 });
    const failed = new Promise<Error>((resolve) => recording.onFailure(resolve));
    recording.append([event(1)]);
    const reader = await openReader(store, id, 0);
    await readCount(reader, 1);
    const waiting = reader.next();
    await store.close();
    expect(await waiting).toEqual({ entries: [], ending: 'lost' });
    expect((await failed).message).toBe('The resume store was closed');
  });

  test('a finished stream waiting out retainMs keeps no process alive (graceful shutdowns do not wait 5 minutes)', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const store = memoryResumeStore();
    const before = timers();
    const recording = await store.create(streamId(), { createdAt: 1 });
    recording.append([event(1)]);
    await recording.finish({ outcome: 'completed' });
    expect(timers()).toBe(before);
    await store.close();
  });
  /** Events 1…`events` with a comment after every third, as one upstream read would bring them: views of one buffer. */
  const oneRead = (events: number): StoredEntry[] => {
    const blocks = Array.from({ length: events }, (_, n) => [event(n + 1), ...((n + 1) % 3 === 0 ? [comment(`c${n + 1}`)] : [])]).flat();
    const buffer = Buffer.concat(blocks.map((block) => block.bytes));
    let offset = 0;
    return blocks.map(({ event: n, bytes }) => {
      const view = buffer.subarray(offset, offset + bytes.length);
      offset += bytes.length;
      return { event: n, bytes: view };
    });
  };
  const after = (entries: StoredEntry[], n: number) => entries.slice(entries.findIndex((entry) => entry.event === n) + 1);

  test('an append is kept as one batch: a read after any event of it, adjacent views or not, gets exactly the blocks after it', async () => {
    const store = memoryResumeStore();
    const id = streamId();
    const recording = await store.create(id, { createdAt: 1 });
    const first = oneRead(10);
    const second = [event(11), comment('apart'), event(12)];
    recording.append(first);
    recording.append(second);
    await recording.finish({ outcome: 'completed' });
    const all = [...first, ...second];
    for (let n = 0; n <= 12; n++) {
      const read = await readToEnd(await openReader(store, id, n));
      expect(shown(read.entries)).toEqual(shown(n === 0 ? all : after(all, n)));
    }
    await store.close();
  });

  test.each<[string, MemoryResumeStoreConfig]>([
    ['blocks', { maxEntriesPerStream: 10 }],
    ['bytes', { maxBytesPerStream: 10 * event(1).bytes.length }],
  ])('the %s cap drops the oldest blocks from inside a batch; a reader before them is told so', async (_cap, caps) => {
    const store = memoryResumeStore(caps);
    const id = streamId();
    const recording = await store.create(id, { createdAt: 1 });
    const early = await openReader(store, id, 0);
    const blocks = oneRead(24);
    recording.append(blocks.slice(0, 5));
    recording.append(blocks.slice(5));
    await recording.finish({ outcome: 'completed' });
    const kept = (await readToEnd(await openReader(store, id, 20))).entries;
    expect(shown(kept)).toEqual(shown(after(blocks, 20)));
    expect(await store.read(id, 10)).toBe('evicted');
    expect(await early.next()).toEqual({ entries: [], ending: { outcome: 'evicted' } });
    const oldestKept = (await Promise.all(Array.from({ length: 24 }, (_, n) => store.read(id, n + 1)))).findIndex((reader) => reader !== 'evicted') + 1;
    const fromOldest = (await readToEnd(await openReader(store, id, oldestKept))).entries;
    // Within the caps, beside the oldest kept event's own block.
    expect(fromOldest.length).toBeLessThan(caps.maxEntriesPerStream ?? Infinity);
    expect(fromOldest.reduce((sum, entry) => sum + entry.bytes.length, 0)).toBeLessThan(caps.maxBytesPerStream ?? Infinity);
    expect(oldestKept).toBeGreaterThan(10);
    expect(shown(fromOldest)).toEqual(shown(after(blocks, oldestKept)));
    await store.close();
  });
});
