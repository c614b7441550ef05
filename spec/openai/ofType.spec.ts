import { from, map, throwError, concat, type Observable } from 'rxjs';
import { APIError, extras, ofType, responseEvents, type SseFrame } from '../../src/index.node';
import { record } from '../helpers/streams';
import { functionCallEvents, messageEvents, responseStream } from '../providers/fixtures';

type Json = Record<string, unknown>;

const framesOf = (events: readonly Json[]): SseFrame[] =>
  events.map((event) => ({ type: 'event', event: String(event.type), data: JSON.stringify(event) }));

const search = { type: 'response.web_search_call.searching', output_index: 0, item_id: 'ws_1' };
const vendor = { type: 'vendor.progress', percent: 40 };
const events = responseStream([
  messageEvents(0, 'msg_1', ['Hel', 'lo']),
  { events: [search, vendor], item: { id: 'ws_1', type: 'web_search_call', status: 'completed' } },
  functionCallEvents(2, 'fc_1', 'call_1', 'get_weather', ['{"city":', '"Oslo"}']),
]);
const events$ = () => from(framesOf(events)).pipe(responseEvents());

async function valuesOf<T>(source: Observable<T>) {
  const recording = record(source);
  await recording.done;
  return recording;
}

describe('ofType()', () => {
  test('lets through only the events of the given type, in order, and completes with the stream', async () => {
    const result = await valuesOf(events$().pipe(ofType('response.output_text.delta'), map((event) => event.delta)));
    expect(result.values).toEqual(['Hel', 'lo']);
    expect(result.completed).toBe(true);
  });

  test('several types: the events of any of them, interleaved as they came', async () => {
    const result = await valuesOf(
      events$().pipe(ofType('response.function_call_arguments.delta', 'response.output_text.delta', 'response.completed')),
    );
    expect(result.values.map((event) => event.type)).toEqual([
      'response.output_text.delta',
      'response.output_text.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.completed',
    ]);
  });

  test('a documented type openai-rx does not validate is picked as sent; a provider’s own type is not picked', async () => {
    const result = await valuesOf(events$().pipe(ofType('response.web_search_call.searching')));
    expect(result.values).toEqual([expect.objectContaining(search)]);
    expect(result.values.map((event) => extras(event).item_id)).toEqual(['ws_1']);
  });

  test('errors pass through unchanged', async () => {
    const failure = new APIError({ message: 'boom', inStream: true });
    const result = await valuesOf(concat(events$(), throwError(() => failure)).pipe(ofType('response.created')));
    expect(result.values).toHaveLength(1);
    expect(result.error).toBe(failure);
  });
});

describe('extras()', () => {
  test('is the value itself: the fields openai-rx does not type are read where they are', async () => {
    const result = await valuesOf(events$());
    const unknown = result.values.find((event) => extras(event).type === 'vendor.progress');
    expect(unknown).toBeDefined();
    expect(extras(unknown!)).toBe(unknown);
    expect(extras(unknown!).percent).toBe(40);
  });
});
