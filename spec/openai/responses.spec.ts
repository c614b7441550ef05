import { from, type Observable } from 'rxjs';
import { APIError, RefusalError, StreamProtocolError, StreamTruncatedError, type SseFrame } from '../../src/index.node';
import { accumulateResponse } from '../../src/openai/accumulateResponse';
import { outputTextDeltas } from '../../src/openai/outputTextDeltas';
import { responseEvents, type ResponseStreamProgress } from '../../src/openai/responseEvents';
import { isKnownResponseEvent, type Response, type ResponseStreamEvent } from '../../src/openai/responseTypes';
import {
  functionCallEvents,
  messageEvents,
  reasoningEvents,
  refusalEvents,
  responseObject,
  responseStream,
  responseUsage,
} from '../providers/fixtures';
import { errorOf, record } from '../helpers/streams';

type Json = Record<string, unknown>;

const frame = (json: unknown, event?: string): SseFrame =>
  event === undefined ? { type: 'event', data: JSON.stringify(json) } : { type: 'event', event, data: JSON.stringify(json) };
const framesOf = (events: readonly Json[]): SseFrame[] => events.map((event) => frame(event, String(event.type)));
const DONE: SseFrame = { type: 'event', data: '[DONE]' };

async function run<T>(source: Observable<T>) {
  const recording = record(source);
  await recording.done;
  return recording;
}

const message = messageEvents(0, 'msg_1', ['Hel', 'lo', ' world']);
const call = functionCallEvents(1, 'fc_1', 'call_1', 'get_weather', ['{"city":', '"Paris"}']);
const thinking = reasoningEvents(0, 'rs_1', [['Think', 'ing'], ['More']]);
const whole = responseStream([thinking, { ...message, events: reindex(message.events, 1) }, reindexItem(call, 2)]);

/** The same item's events at another output index. */
function reindex(events: readonly Json[], outputIndex: number): Json[] {
  return events.map((event) => ({ ...event, output_index: outputIndex }));
}
function reindexItem(item: { events: Json[]; item: Json }, outputIndex: number) {
  return { ...item, events: reindex(item.events, outputIndex) };
}

describe('responseEvents()', () => {
  test('validates every event of a full stream and completes after response.completed', async () => {
    const result = await run(from(framesOf(whole)).pipe(responseEvents()));
    expect(result.completed).toBe(true);
    expect(result.values).toEqual(whole);
    expect(result.values.every(isKnownResponseEvent)).toBe(true);
  });

  test('completes at the terminal event and ignores what follows, [DONE] included', async () => {
    const late = { type: 'response.output_text.delta', item_id: 'x', output_index: 0, content_index: 0, delta: 'late' };
    const result = await run(from([...framesOf(whole), frame(late), DONE]).pipe(responseEvents()));
    expect(result.completed).toBe(true);
    expect(result.values.map((event) => event.type).at(-1)).toBe('response.completed');
    expect(result.values).toHaveLength(whole.length);
  });

  test('passes events of unknown types on as sent, without validating them', async () => {
    const search = { type: 'response.web_search_call.searching', output_index: 0, item_id: 'ws_1', sequence_number: 2 };
    const future = { type: 'response.something_new', payload: { nested: [1, 2] } };
    const events = responseStream([message]);
    events.splice(2, 0, search, future);
    const result = await run(from(framesOf(events)).pipe(responseEvents()));
    expect(result.completed).toBe(true);
    expect(result.values[2]).toEqual(search);
    expect(result.values[3]).toEqual(future);
    expect(isKnownResponseEvent(result.values[2])).toBe(false);
    expect(isKnownResponseEvent(result.values[4])).toBe(true);
  });

  test('accepts streams without sequence_number and with any key order', async () => {
    const events = responseStream([message], {}, false).map((event) => {
      const { type, ...rest } = event;
      return { ...rest, type };
    });
    expect(Object.keys(events[0])[0]).not.toBe('type');
    const result = await run(from(framesOf(events)).pipe(responseEvents()));
    expect(result.completed).toBe(true);
    expect(result.values).toEqual(events);
  });

  test('reads events by their data, whether or not the frame names the event', async () => {
    const result = await run(from(whole.map((event) => frame(event))).pipe(responseEvents()));
    expect(result.completed).toBe(true);
    expect(result.values).toHaveLength(whole.length);
  });

  test('a stream that ends before a terminal event fails with StreamTruncatedError and what arrived', async () => {
    const cut = whole.slice(0, 6);
    const result = await run(from(framesOf(cut)).pipe(responseEvents()));
    expect(result.values).toEqual(cut);
    const error = result.error as StreamTruncatedError<ResponseStreamProgress>;
    expect(error).toBeInstanceOf(StreamTruncatedError);
    expect(error.message).toContain('after 6 events');
    expect(error.partial.events).toBe(6);
    expect(error.partial.response).toEqual(whole[1].response);
  });

  test('[DONE] before a terminal event is a truncation too', async () => {
    const error = await errorOf(from([...framesOf(whole.slice(0, 4)), DONE]).pipe(responseEvents()));
    expect(error).toBeInstanceOf(StreamTruncatedError);
  });

  test('an empty stream is truncated', async () => {
    const error = (await errorOf(from<SseFrame[]>([]).pipe(responseEvents()))) as StreamTruncatedError<ResponseStreamProgress>;
    expect(error).toBeInstanceOf(StreamTruncatedError);
    expect(error.partial).toEqual({ events: 0, response: undefined });
  });

  test('response.incomplete is emitted and completes the stream normally', async () => {
    const events = responseStream([message], {
      type: 'response.incomplete',
      response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } },
    });
    const result = await run(from(framesOf(events)).pipe(responseEvents()));
    expect(result.completed).toBe(true);
    expect(result.values.at(-1)).toMatchObject({
      type: 'response.incomplete',
      response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } },
    });
  });

  test('response.failed ends the stream with APIError carrying response.error and the event', async () => {
    const failed = {
      type: 'response.failed',
      sequence_number: 3,
      response: responseObject({ status: 'failed', error: { code: 'server_error', message: 'The model crashed' } }),
    };
    const result = await run(from(framesOf([whole[0], whole[1], failed])).pipe(responseEvents()));
    expect(result.values).toHaveLength(2);
    const error = result.error as APIError;
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ message: 'The model crashed', code: 'server_error', inStream: true, body: failed });
  });

  test.each([
    ['a number', 503, 503],
    ['an object', { kind: 'odd' }, null],
  ])('response.failed whose error code is %s still ends with APIError', async (_what, code, expected) => {
    const failed = { type: 'response.failed', response: responseObject({ status: 'failed', error: { code, message: 'Overloaded' } }) };
    const error = (await errorOf(from(framesOf([whole[0], failed])).pipe(responseEvents()))) as APIError;
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ message: 'Overloaded', code: expected, body: failed });
  });

  test('response.failed without an error message still says which response failed', async () => {
    const failed = { type: 'response.failed', response: responseObject({ status: 'failed', error: null }) };
    const error = (await errorOf(from(framesOf([failed])).pipe(responseEvents()))) as APIError;
    expect(error).toBeInstanceOf(APIError);
    expect(error.message).toContain('resp_67ccd2bed1ec');
  });

  test.each([
    ['flat', { type: 'error', code: 'rate_limit_exceeded', message: 'Slow down', param: null, sequence_number: 4 }],
    ['nested', { type: 'error', error: { type: 'invalid_request_error', code: 'rate_limit_exceeded', message: 'Slow down', param: null } }],
  ])('a %s error event ends the stream with APIError', async (_shape, payload) => {
    const result = await run(from([...framesOf(whole.slice(0, 3)), frame(payload, 'error')]).pipe(responseEvents()));
    expect(result.values).toHaveLength(3);
    expect(result.error).toBeInstanceOf(APIError);
    expect(result.error).toMatchObject({ message: 'Slow down', code: 'rate_limit_exceeded', inStream: true });
  });

  test('a known event of the wrong shape is a StreamProtocolError carrying the data', async () => {
    const bad = { type: 'response.output_text.delta', item_id: 'msg_1', output_index: 0, content_index: 0, delta: 42 };
    const error = (await errorOf(from([frame(whole[0]), frame(bad)]).pipe(responseEvents()))) as StreamProtocolError;
    expect(error).toBeInstanceOf(StreamProtocolError);
    expect(error.problem).toBe('invalid-chunk');
    expect(error.message).toContain('delta');
    expect(error.data).toBe(JSON.stringify(bad));
  });

  test.each([
    ['a negative output_index', { output_index: -1 }],
    ['a fractional output_index', { output_index: 1.5 }],
    ['a fractional content_index', { content_index: 0.5 }],
    ['an output_index beyond any array', { output_index: 2 ** 32 }],
  ])('%s is a StreamProtocolError (it would lose text)', async (_what, fields) => {
    const bad = { type: 'response.output_text.delta', item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'x', ...fields };
    const error = (await errorOf(from([frame(whole[0]), frame(bad)]).pipe(responseEvents()))) as StreamProtocolError;
    expect(error).toBeInstanceOf(StreamProtocolError);
    expect(error.message).toContain(Object.keys(fields)[0]);
  });

  test('a negative summary_index is a StreamProtocolError', async () => {
    const bad = { type: 'response.reasoning_summary_text.delta', output_index: 0, summary_index: -1, delta: 'x' };
    const error = (await errorOf(from([frame(whole[0]), frame(bad)]).pipe(responseEvents()))) as StreamProtocolError;
    expect(error).toBeInstanceOf(StreamProtocolError);
    expect(error.message).toContain('summary_index');
  });

  test('an event without a type is a StreamProtocolError', async () => {
    const error = (await errorOf(from([frame({ response: {} })]).pipe(responseEvents()))) as StreamProtocolError;
    expect(error).toBeInstanceOf(StreamProtocolError);
    expect(error.problem).toBe('invalid-chunk');
  });

  test('comments between events are skipped', async () => {
    const frames = framesOf(whole).flatMap((event): SseFrame[] => [{ type: 'comment', text: 'keep-alive' }, event]);
    const result = await run(from(frames).pipe(responseEvents()));
    expect(result.completed).toBe(true);
    expect(result.values).toHaveLength(whole.length);
  });
});

describe('outputTextDeltas()', () => {
  test('emits the text deltas of every message in order, and nothing else', async () => {
    const second = messageEvents(3, 'msg_2', ['!', '', '?']);
    const events = responseStream([thinking, reindexItem(message, 1), reindexItem(call, 2), second]);
    events.splice(3, 0, { type: 'response.output_text.annotation.added', delta: 'not text' });
    const result = await run(from(framesOf(events)).pipe(responseEvents(), outputTextDeltas()));
    expect(result.completed).toBe(true);
    expect(result.values).toEqual(['Hel', 'lo', ' world', '!', '?']);
  });

  test('a refusal: the text before it passes, then a RefusalError with the whole refusal instead of completing', async () => {
    const events = responseStream([messageEvents(0, 'msg_1', ['Sure']), refusalEvents(1, 'msg_2', ['I cannot ', 'do that.'])]);
    const result = await run(from(framesOf(events)).pipe(responseEvents(), outputTextDeltas()));
    expect(result.values).toEqual(['Sure']);
    expect(result.completed).toBe(false);
    expect(result.error).toBeInstanceOf(RefusalError);
    expect(result.error).toMatchObject({ refusal: 'I cannot do that.' });
  });

  test('passes errors on', async () => {
    const error = await errorOf(from(framesOf(whole.slice(0, 8))).pipe(responseEvents(), outputTextDeltas()));
    expect(error).toBeInstanceOf(StreamTruncatedError);
  });
});

describe('accumulateResponse()', () => {
  const accumulate = (events: readonly Json[]) => run(from(framesOf(events)).pipe(responseEvents(), accumulateResponse()));

  test('emits a snapshot after every event; the last is response.completed’s response', async () => {
    const result = await accumulate(whole);
    expect(result.completed).toBe(true);
    expect(result.values).toHaveLength(whole.length);
    expect(result.values.at(-1)).toEqual(whole.at(-1)?.response);
    expect(result.values.at(-1)?.usage).toEqual(responseUsage);
  });

  test('builds reasoning summaries, message text and function-call arguments from their deltas', async () => {
    const result = await accumulate(whole);
    const before = result.values.at(-2) as Response;
    expect(before.status).toBe('in_progress');
    expect(before.output).toEqual([thinking.item, message.item, call.item]);
    const typeAt = (index: number) => whole[index].type;
    const midText = result.values.findIndex((_snapshot, index) => typeAt(index) === 'response.output_text.delta');
    expect(result.values[midText].output[1].content?.[0]).toMatchObject({ type: 'output_text', text: 'Hel' });
    expect(result.values[midText + 1].output[1].content?.[0].text).toBe('Hello');
    const midArgs = result.values.findIndex((_snapshot, index) => typeAt(index) === 'response.function_call_arguments.delta');
    expect(result.values[midArgs].output[2]).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":' });
    const midSummary = result.values.findIndex((_snapshot, index) => typeAt(index) === 'response.reasoning_summary_text.delta');
    expect(result.values[midSummary].output[0].summary).toEqual([{ type: 'summary_text', text: 'Think' }]);
  });

  test('builds a refusal from its deltas', async () => {
    const refusal = refusalEvents(0, 'msg_r', ['I can', '’t help with that.']);
    const events = responseStream([refusal]);
    const result = await accumulate(events);
    const deltaAt = events.findIndex((event) => event.type === 'response.refusal.delta');
    expect(result.values[deltaAt].output[0].content).toEqual([{ type: 'refusal', refusal: 'I can' }]);
    expect(result.values.at(-2)?.output).toEqual([refusal.item]);
  });

  test('a snapshot shares the items an event did not change with the one before', async () => {
    const result = await accumulate(whole);
    const argsAt = whole.findIndex((event) => event.type === 'response.function_call_arguments.delta');
    const [previous, current] = [result.values[argsAt - 1], result.values[argsAt]];
    expect(current).not.toBe(previous);
    expect(current.output[0]).toBe(previous.output[0]);
    expect(current.output[1]).toBe(previous.output[1]);
    expect(current.output[2]).not.toBe(previous.output[2]);
  });

  test('builds items from deltas alone when the added events never came', async () => {
    const events = [
      { type: 'response.created', response: responseObject() },
      { type: 'response.output_text.delta', item_id: 'msg_9', output_index: 0, content_index: 0, delta: 'Hi' },
      { type: 'response.output_text.delta', item_id: 'msg_9', output_index: 0, content_index: 0, delta: '!' },
      { type: 'response.function_call_arguments.delta', item_id: 'fc_9', output_index: 1, delta: '{}' },
      { type: 'response.reasoning_summary_text.delta', item_id: 'rs_9', output_index: 2, summary_index: 0, delta: 'Hm' },
    ];
    const result = await run(from(framesOf(events)).pipe(responseEvents(), accumulateResponse()));
    const partial = (result.error as StreamTruncatedError<Response>).partial;
    expect(partial.output).toEqual([
      { type: 'message', id: 'msg_9', content: [{ type: 'output_text', text: 'Hi!', annotations: [] }] },
      { type: 'function_call', id: 'fc_9', arguments: '{}' },
      { type: 'reasoning', id: 'rs_9', summary: [{ type: 'summary_text', text: 'Hm' }] },
    ]);
  });

  test('sparse or huge indexes keep items and parts in index order without holes', async () => {
    const events = [
      { type: 'response.created', response: responseObject() },
      { type: 'response.output_text.delta', item_id: 'msg_far', output_index: 3_000_000, content_index: 3, delta: 'far' },
      { type: 'response.output_text.delta', item_id: 'msg_far', output_index: 3_000_000, content_index: 1, delta: 'near' },
      { type: 'response.function_call_arguments.delta', item_id: 'fc_last', output_index: 3_000_001, delta: '{}' },
      { type: 'response.reasoning_summary_text.delta', item_id: 'rs_1', output_index: 2, summary_index: 9, delta: 'b' },
      { type: 'response.reasoning_summary_text.delta', item_id: 'rs_1', output_index: 2, summary_index: 4, delta: 'a' },
      { type: 'response.output_text.delta', item_id: 'msg_far', output_index: 3_000_000, content_index: 3, delta: 'ther' },
    ];
    const result = await run(from(framesOf(events)).pipe(responseEvents(), accumulateResponse()));
    const partial = (result.error as StreamTruncatedError<Response>).partial;
    expect(partial.output.length).toBe(3);
    expect(partial.output).toEqual([
      { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'a' }, { type: 'summary_text', text: 'b' }] },
      {
        type: 'message',
        id: 'msg_far',
        content: [
          { type: 'output_text', text: 'near', annotations: [] },
          { type: 'output_text', text: 'farther', annotations: [] },
        ],
      },
      { type: 'function_call', id: 'fc_last', arguments: '{}' },
    ]);
  });

  test('an item replaced by output_item.done takes its parts from the server again', async () => {
    const at = { item_id: 'msg_1', output_index: 5 };
    const item = { type: 'message', id: 'msg_1', role: 'assistant', content: [{ type: 'output_text', text: 'Hi', annotations: [] }] };
    const events = [
      { type: 'response.created', response: responseObject() },
      { type: 'response.output_text.delta', ...at, content_index: 7, delta: 'draft' },
      { type: 'response.output_item.done', output_index: 5, item },
      { type: 'response.output_text.delta', ...at, content_index: 0, delta: '!' },
    ];
    const result = await run(from(framesOf(events)).pipe(responseEvents(), accumulateResponse()));
    expect(result.values.at(-1)?.output).toEqual([{ ...item, content: [{ type: 'output_text', text: 'Hi!', annotations: [] }] }]);
  });

  test('concatenates the logprobs of text deltas', async () => {
    const at = { item_id: 'msg_1', output_index: 0, content_index: 0 };
    const events = [
      { type: 'response.created', response: responseObject() },
      { type: 'response.output_text.delta', ...at, delta: 'A', logprobs: [{ token: 'A', logprob: -0.1, top_logprobs: [] }] },
      { type: 'response.output_text.delta', ...at, delta: 'B', logprobs: [{ token: 'B', logprob: -0.2, top_logprobs: [] }] },
      { type: 'response.output_text.delta', ...at, delta: 'C', logprobs: [] },
    ];
    const result = await run(from(framesOf(events)).pipe(responseEvents(), accumulateResponse()));
    expect(result.values.at(-1)?.output[0].content?.[0]).toMatchObject({
      text: 'ABC',
      logprobs: [
        { token: 'A', logprob: -0.1, top_logprobs: [] },
        { token: 'B', logprob: -0.2, top_logprobs: [] },
      ],
    });
  });

  test('unknown events leave the snapshot as it was', async () => {
    const events = responseStream([message]);
    events.splice(4, 0, { type: 'response.output_text.annotation.added', annotation: { type: 'url_citation' } });
    const result = await accumulate(events);
    expect(result.values[4]).toEqual(result.values[3]);
    expect(result.values.at(-1)).toEqual(events.at(-1)?.response);
  });

  test('the final value of an incomplete response is response.incomplete’s response', async () => {
    const events = responseStream([message], {
      type: 'response.incomplete',
      response: { status: 'incomplete', incomplete_details: { reason: 'content_filter' } },
    });
    const result = await accumulate(events);
    expect(result.completed).toBe(true);
    expect(result.values.at(-1)).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'content_filter' } });
  });

  test('a truncated stream’s error carries the snapshot so far', async () => {
    const cut = whole.slice(0, whole.findIndex((event) => event.type === 'response.output_text.done'));
    const result = await accumulate(cut);
    const error = result.error as StreamTruncatedError<Response>;
    expect(error).toBeInstanceOf(StreamTruncatedError);
    expect(error.partial).toEqual(result.values.at(-1));
    expect(error.partial.id).toBe('resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b');
    expect(error.partial.output[1].content?.[0].text).toBe('Hello world');
  });

  test('other errors pass through unchanged', async () => {
    const failed = { type: 'response.failed', response: responseObject({ status: 'failed', error: { code: 'x', message: 'boom' } }) };
    const error = await errorOf(from(framesOf([whole[0], failed])).pipe(responseEvents(), accumulateResponse()));
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toBe('boom');
  });

  test('each subscription accumulates on its own', async () => {
    const source: Observable<ResponseStreamEvent> = from(framesOf(whole)).pipe(responseEvents());
    const accumulated = source.pipe(accumulateResponse());
    const [first, second] = [await run(accumulated), await run(accumulated)];
    expect(second.values).toEqual(first.values);
  });
});
