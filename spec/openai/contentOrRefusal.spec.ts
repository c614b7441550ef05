import { from, lastValueFrom, toArray } from 'rxjs';
import { chatChunks, contentOrRefusal, outputTextOrRefusal, responseEvents } from '../../src/index.node';
import { dataFrames, deltaChunk } from '../helpers/chatFrames';
import { messageEvents, refusalEvents, responseStream } from '../providers/fixtures';

describe('contentOrRefusal', () => {
  test('one choice’s content as strings and refusal as { refusal }, in order, empty ones skipped', async () => {
    const frames = dataFrames(
      deltaChunk({ role: 'assistant', content: '', refusal: null }),
      deltaChunk({ content: 'Hel' }),
      deltaChunk({ content: 'other choice' }, null, 1),
      deltaChunk({ refusal: 'No' }),
      deltaChunk({ content: 'lo', refusal: '!' }),
      '[DONE]',
    );
    expect(await lastValueFrom(from(frames).pipe(chatChunks(), contentOrRefusal(), toArray()))).toEqual(['Hel', { refusal: 'No' }, 'lo', { refusal: '!' }]);
    expect(await lastValueFrom(from(frames).pipe(chatChunks(), contentOrRefusal({ choice: 1 }), toArray()))).toEqual(['other choice']);
  });
});

describe('outputTextOrRefusal', () => {
  test('output text deltas as strings and refusal deltas as { refusal }', async () => {
    const events = responseStream([messageEvents(0, 'msg_1', ['Hel', 'lo']), refusalEvents(1, 'msg_2', ['No', 'pe'])]);
    const frames = events.map((event) => ({ type: 'event' as const, event: String(event.type), data: JSON.stringify(event) }));
    expect(await lastValueFrom(from(frames).pipe(responseEvents(), outputTextOrRefusal(), toArray()))).toEqual(['Hel', 'lo', { refusal: 'No' }, { refusal: 'pe' }]);
  });
});
