import { of } from 'rxjs';
import { jsonEvents } from '../../src/openai/jsonEvents';
import { dataFrames } from '../helpers/chatFrames';
import { record } from '../helpers/streams';

test('a stage that throws ends the stream with its error instead of crashing the process', async () => {
  const thrown = new Error('stage bug');
  const recording = record(
    of(...dataFrames({ a: 1 }, { a: 2 })).pipe(
      jsonEvents<number>(() => ({
        accept(json, _frame, out) {
          if ((json as { a: number }).a === 2) throw thrown;
          out.next((json as { a: number }).a);
        },
        end: (out) => out.complete(),
      })),
    ),
  );
  await recording.done;
  expect(recording.values).toEqual([1]);
  expect(recording.error).toBe(thrown);
});
