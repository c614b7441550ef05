import { memoryResumeStore } from '../../src/resume/memoryResumeStore';
import { event, openReader, readCount, resumeStoreContract, streamId } from './storeContract';

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
});
