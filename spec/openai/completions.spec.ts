import { from, type Observable } from 'rxjs';
import { APIError, StreamProtocolError, StreamTruncatedError, type SseFrame } from '../../src/index.node';
import { accumulateCompletion } from '../../src/openai/accumulateCompletion';
import { completionChunks } from '../../src/openai/completionChunks';
import type { ChoiceStreamProgress } from '../../src/openai/jsonEvents';
import { completionTextDeltas } from '../../src/openai/completionTextDeltas';
import type { Completion } from '../../src/openai/completionTypes';
import { errorOf, record } from '../helpers/streams';
import { chunkFactory } from '../providers/fixtures';

const frame = (json: unknown): SseFrame => ({ type: 'event', data: JSON.stringify(json) });
const DONE: SseFrame = { type: 'event', data: '[DONE]' };
const chunk = chunkFactory({ id: 'cmpl-8Xq1', object: 'text_completion', created: 1700000000, model: 'gpt-3.5-turbo-instruct' });
const text = (value: string, finishReason: string | null = null, index = 0, logprobs: unknown = null) => ({
  text: value,
  index,
  logprobs,
  finish_reason: finishReason,
});

async function run<T>(source: Observable<T>) {
  const recording = record(source);
  await recording.done;
  return recording;
}

const basic = [chunk([text('Hello')]), chunk([text(',')]), chunk([text(' world', 'stop')])];

describe('completionChunks()', () => {
  test('validates chunks, keeps unknown fields and stops at [DONE]', async () => {
    const chunks = [chunk([text('Hi')], { provider_extra: { a: 1 } }), chunk([text('!', 'length')])];
    const result = await run(from([...chunks.map(frame), DONE, frame(chunk([text('after')]))]).pipe(completionChunks()));
    expect(result.completed).toBe(true);
    expect(result.values).toEqual(chunks);
  });

  test('an empty choices: [] first chunk starts nothing', async () => {
    const first = { id: '', object: '', created: 0, model: '', choices: [], prompt_filter_results: [{ prompt_index: 0 }] };
    const result = await run(from([frame(first), ...basic.map(frame)]).pipe(completionChunks()));
    expect(result.completed).toBe(true);
    expect(result.values).toHaveLength(4);
  });

  test('without [DONE] the stream completes when every choice finished', async () => {
    const result = await run(from(basic.map(frame)).pipe(completionChunks()));
    expect(result.completed).toBe(true);
  });

  test('without [DONE] an unfinished choice is a truncation', async () => {
    const chunks = [chunk([text('a', null, 0), text('b', null, 1)]), chunk([text('', 'stop', 0)])];
    const error = (await errorOf(from(chunks.map(frame)).pipe(completionChunks()))) as StreamTruncatedError<ChoiceStreamProgress>;
    expect(error).toBeInstanceOf(StreamTruncatedError);
    expect(error.message).toContain('completion stream');
    expect(error.partial).toEqual({ chunks: 2, unfinishedChoices: [1] });
  });

  test('a stream with no chunk at all is a truncation', async () => {
    const error = (await errorOf(from<SseFrame[]>([]).pipe(completionChunks()))) as StreamTruncatedError<ChoiceStreamProgress>;
    expect(error).toBeInstanceOf(StreamTruncatedError);
    expect(error.partial).toEqual({ chunks: 0, unfinishedChoices: [] });
  });

  test('in-stream errors become APIError', async () => {
    const error = await errorOf(
      from([frame(basic[0]), frame({ error: { message: 'overloaded', type: 'server_error', code: null } }), DONE]).pipe(completionChunks()),
    );
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ message: 'overloaded', type: 'server_error', inStream: true });
  });

  test('text that is not a string is a StreamProtocolError', async () => {
    const error = (await errorOf(from([frame(chunk([{ index: 0, text: 7 }]))]).pipe(completionChunks()))) as StreamProtocolError;
    expect(error).toBeInstanceOf(StreamProtocolError);
    expect(error.message).toContain('choices.0.text');
  });
  test.each([0.5, -1])('a choice index of %p is a StreamProtocolError (it would make a separate choice)', async (index) => {
    const error = (await errorOf(from([frame(chunk([text('a', null, index)]))]).pipe(completionChunks()))) as StreamProtocolError;
    expect(error).toBeInstanceOf(StreamProtocolError);
    expect(error.message).toContain('choices.0.index');
  });
});

describe('completionTextDeltas()', () => {
  test('emits the non-empty text of one choice', async () => {
    const chunks = [chunk([text('a', null, 0), text('x', null, 1)]), chunk([text('', null, 0)]), chunk([text('b', 'stop', 0), text('y', 'stop', 1)])];
    const first = await run(from(chunks.map(frame)).pipe(completionChunks(), completionTextDeltas()));
    const second = await run(from(chunks.map(frame)).pipe(completionChunks(), completionTextDeltas({ choice: 1 })));
    expect(first.values).toEqual(['a', 'b']);
    expect(second.values).toEqual(['x', 'y']);
  });
});

describe('accumulateCompletion()', () => {
  const accumulate = (frames: SseFrame[]) => run(from(frames).pipe(completionChunks(), accumulateCompletion()));

  test('emits a non-streaming Completion after every chunk', async () => {
    const usage = { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 };
    const result = await accumulate([...basic.map(frame), frame(chunk([], { usage })), DONE]);
    expect(result.completed).toBe(true);
    expect(result.values).toHaveLength(4);
    expect(result.values[0].choices[0].text).toBe('Hello');
    expect(result.values.at(-1)).toEqual({
      id: 'cmpl-8Xq1',
      object: 'text_completion',
      created: 1700000000,
      model: 'gpt-3.5-turbo-instruct',
      choices: [{ index: 0, text: 'Hello, world', finish_reason: 'stop', logprobs: null }],
      usage,
    });
  });

  test('concatenates legacy logprobs array by array', async () => {
    const logprobs = (tokens: string[], offset: number) => ({
      tokens,
      token_logprobs: tokens.map((_token, i) => -0.5 * (i + 1)),
      top_logprobs: tokens.map((token) => ({ [token]: -0.5, ' other': -2 })),
      text_offset: tokens.map((_token, i) => offset + i),
    });
    const echoed = { tokens: ['Say'], token_logprobs: [null], top_logprobs: [null], text_offset: [0] };
    const result = await accumulate([
      frame(chunk([text('Say', null, 0, echoed)])),
      frame(chunk([text(' hi', null, 0, logprobs([' hi'], 3))])),
      frame(chunk([text(' there', 'stop', 0, logprobs([' the', 're'], 6))])),
    ]);
    expect(result.values.at(-1)?.choices[0].logprobs).toEqual({
      tokens: ['Say', ' hi', ' the', 're'],
      token_logprobs: [null, -0.5, -0.5, -1],
      top_logprobs: [null, { ' hi': -0.5, ' other': -2 }, { ' the': -0.5, ' other': -2 }, { re: -0.5, ' other': -2 }],
      text_offset: [0, 3, 6, 7],
    });
  });

  test('a finish_reason repeated on a trailing empty chunk changes nothing', async () => {
    const result = await accumulate([...basic.map(frame), frame(chunk([text('', 'stop')])), DONE]);
    expect(result.values.at(-1)?.choices).toEqual([{ index: 0, text: 'Hello, world', finish_reason: 'stop', logprobs: null }]);
  });

  test('the first real id, model and created win over an empty first chunk', async () => {
    const first = { id: '', object: '', created: 0, model: '', choices: [], prompt_filter_results: [] };
    const result = await accumulate([frame(first), ...basic.map(frame)]);
    expect(result.values[0]).toEqual({ id: '', object: 'text_completion', created: 0, model: '', choices: [] });
    expect(result.values.at(-1)).toMatchObject({ id: 'cmpl-8Xq1', created: 1700000000, model: 'gpt-3.5-turbo-instruct' });
  });

  test('keeps choices in index order whatever order they arrive in', async () => {
    const result = await accumulate([frame(chunk([text('b', null, 1)])), frame(chunk([text('a', 'stop', 0)])), frame(chunk([text('', 'length', 1)]))]);
    expect(result.values.at(-1)?.choices.map((choice) => [choice.index, choice.text, choice.finish_reason])).toEqual([
      [0, 'a', 'stop'],
      [1, 'b', 'length'],
    ]);
  });

  test('a choice no chunk changed is the same object in the next snapshot', async () => {
    const result = await accumulate([frame(chunk([text('a', null, 0), text('b', null, 1)])), frame(chunk([text('c', 'stop', 1)]))]);
    expect(result.values[1].choices[0]).toBe(result.values[0].choices[0]);
    expect(result.values[1].choices[1]).not.toBe(result.values[0].choices[1]);
  });

  test('a truncated stream’s error carries the completion so far', async () => {
    const result = await accumulate(basic.slice(0, 2).map(frame));
    const error = result.error as StreamTruncatedError<Completion>;
    expect(error).toBeInstanceOf(StreamTruncatedError);
    expect(error.partial.choices[0]).toEqual({ index: 0, text: 'Hello,', finish_reason: null, logprobs: null });
  });
});
