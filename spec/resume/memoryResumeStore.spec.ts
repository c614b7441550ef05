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
  /** Events from `first` on, `count` of them, with a comment after every third, as one upstream read brings them: views of one buffer. */
  const oneRead = (first: number, count: number): StoredEntry[] => {
    const blocks = Array.from({ length: count }, (_, n) => [event(first + n), ...((first + n) % 3 === 0 ? [comment(`c${first + n}`)] : [])]).flat();
    const buffer = Buffer.concat(blocks.map((block) => block.bytes));
    let offset = 0;
    return blocks.map(({ event: n, bytes }) => {
      const view = buffer.subarray(offset, offset + bytes.length);
      offset += bytes.length;
      return { event: n, bytes: view };
    });
  };
  const after = (entries: StoredEntry[], n: number) => entries.slice(entries.findIndex((entry) => entry.event === n) + 1);
  /** Big reads (packed at once), a model's pace of one block per read (gathered, then packed), separate buffers. */
  const appends = (): StoredEntry[][] => [
    oneRead(1, 100),
    ...Array.from({ length: 70 }, (_, n) => [event(101 + n)]),
    [event(171), comment('apart'), event(172)],
  ];

  test('every block is read back exactly, after any event, whatever the appends were like', async () => {
    const store = memoryResumeStore();
    const id = streamId();
    const recording = await store.create(id, { createdAt: 1 });
    const batches = appends();
    for (const batch of batches) recording.append(batch);
    await recording.finish({ outcome: 'completed' });
    const all = batches.flat();
    for (let n = 0; n <= 172; n++) {
      const read = await readToEnd(await openReader(store, id, n));
      expect(shown(read.entries)).toEqual(shown(n === 0 ? all : after(all, n)));
    }
    await store.close();
  });

  test.each<[string, MemoryResumeStoreConfig, StoredEntry[][]]>([
    ['blocks', { maxEntriesPerStream: 10 }, appends()],
    ['bytes', { maxBytesPerStream: 10 * event(1).bytes.length }, appends()],
    ['blocks', { maxEntriesPerStream: 10 }, [oneRead(1, 172)]],
    ['blocks', { maxEntriesPerStream: 10 }, Array.from({ length: 172 }, (_, n) => [event(n + 1)])],
    ['bytes', { maxBytesPerStream: 10 * event(1).bytes.length }, Array.from({ length: 172 }, (_, n) => [event(n + 1)])],
  ])('the %s cap drops the oldest blocks, inside a batch too; a reader before them is told so (%#)', async (_cap, caps, batches) => {
    const store = memoryResumeStore(caps);
    const id = streamId();
    const recording = await store.create(id, { createdAt: 1 });
    const early = await openReader(store, id, 0);
    for (const batch of batches) recording.append(batch);
    await recording.finish({ outcome: 'completed' });
    const all = batches.flat();
    expect(shown((await readToEnd(await openReader(store, id, 168))).entries)).toEqual(shown(after(all, 168)));
    expect(await store.read(id, 150)).toBe('evicted');
    expect(await early.next()).toEqual({ entries: [], ending: { outcome: 'evicted' } });
    early.close();
    let oldestKept = 0;
    for (let n = 1; n <= 172 && !oldestKept; n++) {
      const reader = await store.read(id, n);
      if (reader === 'evicted') continue;
      if (typeof reader === 'string') throw new Error(`read(${n}): ${reader}`);
      oldestKept = n;
      const fromOldest = (await readToEnd(reader)).entries;
      reader.close();
      // Within the caps: the oldest kept event's own block, or (when its block was the last one dropped) everything kept.
      expect(fromOldest.length).toBeLessThanOrEqual(caps.maxEntriesPerStream ?? Infinity);
      expect(fromOldest.reduce((sum, entry) => sum + entry.bytes.length, 0)).toBeLessThanOrEqual(caps.maxBytesPerStream ?? Infinity);
      expect(shown(fromOldest)).toEqual(shown(after(all, n)));
    }
    expect(oldestKept).toBeGreaterThan(160);
    await store.close();
  });

  test('a reader after the last event dropped misses nothing when its block was the last block dropped: it is served, not evicted', async () => {
    const store = memoryResumeStore({ maxEntriesPerStream: 10 });
    const id = streamId();
    const recording = await store.create(id, { createdAt: 1 });
    for (let n = 1; n <= 30; n++) recording.append([event(n)]);
    recording.append([comment('after 30'), event(31)]);
    await recording.finish({ outcome: 'completed' });
    // Kept: events 23…30, the comment and event 31 (10 blocks); event 22's block was the last one dropped.
    expect(shown((await readToEnd(await openReader(store, id, 22))).entries)).toEqual(
      shown([...Array.from({ length: 8 }, (_, n) => event(23 + n)), comment('after 30'), event(31)]),
    );
    expect(await store.read(id, 21)).toBe('evicted');
    await store.close();
  });
  test('a reader from the start of a long stream gets it in parts of about 1 MiB, the ending with the last part', async () => {
    const store = memoryResumeStore();
    const id = streamId();
    const recording = await store.create(id, { createdAt: 1 });
    const blocks = Array.from({ length: 3000 }, (_, n) => event(n + 1, JSON.stringify('x'.repeat(1000))));
    for (let at = 0; at < blocks.length; at += 100) recording.append(blocks.slice(at, at + 100));
    await recording.finish({ outcome: 'completed' });
    const reader = await openReader(store, id, 0);
    const reads = [];
    for (let read = await reader.next(); ; read = await reader.next()) {
      reads.push(read);
      if (read.ending) break;
    }
    reader.close();
    expect(reads.length).toBeGreaterThanOrEqual(3);
    for (const { entries } of reads) expect(entries.reduce((sum, entry) => sum + entry.bytes.length, 0)).toBeLessThan(1024 * 1024 + 1100);
    expect(reads.slice(0, -1).every((read) => read.ending === undefined)).toBe(true);
    expect(reads.at(-1)?.ending).toEqual({ outcome: 'completed' });
    expect(shown(reads.flatMap((read) => read.entries))).toEqual(shown(blocks));
    await store.close();
  });
});
