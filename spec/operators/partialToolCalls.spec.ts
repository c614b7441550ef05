import { from, lastValueFrom, toArray } from 'rxjs';
import { chatChunks, PartialJsonError, partialToolCalls, toolCallDeltas } from '../../src/index.node';
import { dataFrames, deltaChunk } from '../helpers/chatFrames';

const call = (index: number, fields: { id?: string; name?: string; arguments?: string }) =>
  deltaChunk({ tool_calls: [{ index, ...(fields.id ? { id: fields.id, type: 'function' } : {}), function: { name: fields.name, arguments: fields.arguments ?? '' } }] });

const calls$ = (...chunks: unknown[]) => from(dataFrames(...chunks, '[DONE]')).pipe(chatChunks(), toolCallDeltas(), partialToolCalls(), toArray());

describe('partialToolCalls', () => {
  test('each call with its arguments parsed so far, calls interleaved', async () => {
    const emitted = await lastValueFrom(
      calls$(
        call(0, { id: 'call_a', name: 'get_weather' }),
        call(0, { arguments: '{"city": "Par' }),
        call(1, { id: 'call_b', name: 'get_time', arguments: '{"zone"' }),
        call(0, { arguments: 'is"}' }),
        call(1, { arguments: ': "CET"}' }),
      ),
    );
    expect(emitted).toEqual([
      { index: 0, id: 'call_a', name: 'get_weather', arguments: undefined },
      { index: 0, id: 'call_a', name: 'get_weather', arguments: { city: 'Par' } },
      { index: 1, id: 'call_b', name: 'get_time', arguments: {} },
      { index: 0, id: 'call_a', name: 'get_weather', arguments: { city: 'Paris' } },
      { index: 1, id: 'call_b', name: 'get_time', arguments: { zone: 'CET' } },
    ]);
  });

  test('a call without arguments is fine; arguments that are not JSON fail the stream', async () => {
    await expect(lastValueFrom(calls$(call(0, { id: 'c', name: 'ping' })))).resolves.toEqual([{ index: 0, id: 'c', name: 'ping', arguments: undefined }]);
    await expect(lastValueFrom(calls$(call(0, { id: 'c', name: 'f', arguments: '{"a": x' })))).rejects.toBeInstanceOf(PartialJsonError);
  });

  test('arguments left unfinished fail when the stream completes', async () => {
    await expect(lastValueFrom(calls$(call(0, { id: 'c', name: 'f', arguments: '{"a": [1' })))).rejects.toMatchObject({ problem: 'unfinished' });
  });
});
