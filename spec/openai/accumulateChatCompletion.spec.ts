import { lastValueFrom, of, tap, toArray } from 'rxjs';
import { StreamTruncatedError } from '../../src/errors';
import { accumulateChatCompletion } from '../../src/openai/accumulateChatCompletion';
import { chatChunks } from '../../src/openai/chatChunks';
import type { ChatCompletion } from '../../src/openai/chatTypes';
import { chunk, dataFrames, deltaChunk } from '../helpers/chatFrames';
import { record } from '../helpers/streams';

/** Every snapshot, through the real parsing operator. */
function snapshots(...values: unknown[]): Promise<ChatCompletion[]> {
  return lastValueFrom(of(...dataFrames(...values)).pipe(chatChunks(), accumulateChatCompletion(), toArray()));
}

async function final(...values: unknown[]): Promise<ChatCompletion> {
  const all = await snapshots(...values);
  return all[all.length - 1];
}

const envelope = { id: 'chatcmpl-7', object: 'chat.completion', created: 1718000000, model: 'gpt-4o-mini' } as const;
const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };

const message = (fields: Record<string, unknown>) => ({ role: 'assistant', content: null, refusal: null, ...fields });

describe('accumulateChatCompletion', () => {
  test('plain text', async () => {
    const result = await final(
      deltaChunk({ role: 'assistant', content: '' }),
      deltaChunk({ content: 'Hello' }),
      deltaChunk({ content: ', world' }),
      deltaChunk({}, 'stop'),
      chunk({ choices: [], usage, system_fingerprint: 'fp_9' }),
      '[DONE]',
    );
    expect(result).toEqual({
      ...envelope,
      system_fingerprint: 'fp_9',
      choices: [{ index: 0, message: message({ content: 'Hello, world' }), finish_reason: 'stop', logprobs: null }],
      usage,
    });
  });

  test('one snapshot per chunk', async () => {
    const all = await snapshots(deltaChunk({ content: 'a' }), deltaChunk({ content: 'b' }), deltaChunk({}, 'stop'), '[DONE]');
    expect(all.map((snapshot) => snapshot.choices[0].message.content)).toEqual(['a', 'ab', 'ab']);
    expect(all.map((snapshot) => snapshot.choices[0].finish_reason)).toEqual([null, null, 'stop']);
  });

  test('parallel tool calls by index: id and name on the first fragment, arguments concatenated', async () => {
    const call = (index: number, fields: Record<string, unknown>) => ({ index, ...fields });
    const result = await final(
      deltaChunk({ role: 'assistant', content: null }),
      deltaChunk({ tool_calls: [call(0, { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } })] }),
      deltaChunk({ tool_calls: [call(0, { function: { arguments: '{"city":' } })] }),
      deltaChunk({ tool_calls: [call(1, { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{"tz"' } })] }),
      deltaChunk({ tool_calls: [call(0, { function: { arguments: '"Paris"}' } })] }),
      deltaChunk({ tool_calls: [call(1, { function: { arguments: ':"CET"}' } })] }),
      deltaChunk({}, 'tool_calls'),
      '[DONE]',
    );
    expect(result.choices).toEqual([
      {
        index: 0,
        message: message({
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{"tz":"CET"}' } },
          ],
        }),
        finish_reason: 'tool_calls',
        logprobs: null,
      },
    ]);
  });

  test('a whole tool call in one chunk, with the role in the same chunk', async () => {
    const result = await final(
      deltaChunk(
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"rx"}' } }],
        },
        'tool_calls',
      ),
      '[DONE]',
    );
    expect(result.choices[0].message).toEqual(
      message({ tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"rx"}' } }] }),
    );
  });

  test('providers that omit the tool-call index: calls told apart by id, fragments without id go to the latest call', async () => {
    const result = await final(
      deltaChunk({ tool_calls: [{ id: 'call_x', type: 'function', function: { name: 'first', arguments: '{"a":' } }] }),
      deltaChunk({ tool_calls: [{ function: { arguments: '1}' } }] }),
      deltaChunk({ tool_calls: [{ id: 'call_y', type: 'function', function: { name: 'second', arguments: '{}' } }] }),
      // The same id again (some providers repeat it on every fragment), and an empty id.
      deltaChunk({ tool_calls: [{ id: 'call_x', function: { arguments: '' } }] }),
      deltaChunk({ tool_calls: [{ id: '', function: { arguments: '' } }] }),
      deltaChunk({}, 'tool_calls'),
      '[DONE]',
    );
    expect(result.choices[0].message.tool_calls).toEqual([
      { id: 'call_x', type: 'function', function: { name: 'first', arguments: '{"a":1}' } },
      { id: 'call_y', type: 'function', function: { name: 'second', arguments: '{}' } },
    ]);
  });

  test('sparse or huge provider indexes keep the calls in index order without holes', async () => {
    const result = await final(
      deltaChunk({ tool_calls: [{ index: 4_000_000_000, id: 'late', function: { name: 'z', arguments: '{}' } }] }),
      deltaChunk({ tool_calls: [{ index: 3, id: 'mid', function: { name: 'm', arguments: '{' } }] }),
      deltaChunk({ tool_calls: [{ index: 3, function: { arguments: '}' } }] }),
      deltaChunk({}, 'tool_calls'),
      '[DONE]',
    );
    expect(result.choices[0].message.tool_calls?.map((call) => [call.id, call.type === 'function' && call.function.arguments])).toEqual([
      ['mid', '{}'],
      ['late', '{}'],
    ]);
  });

  test("custom tools' calls keep their type and build custom.input, beside function calls", async () => {
    const result = await final(
      deltaChunk({ tool_calls: [{ index: 0, id: 'call_c', type: 'custom', custom: { name: 'run_sql', input: '' } }] }),
      deltaChunk({ tool_calls: [{ index: 1, id: 'call_f', type: 'function', function: { name: 'get_time', arguments: '{' } }] }),
      deltaChunk({ tool_calls: [{ index: 0, custom: { input: 'SELECT ' } }] }),
      deltaChunk({ tool_calls: [{ index: 0, custom: { input: '1' } }, { index: 1, function: { arguments: '}' } }] }),
      deltaChunk({}, 'tool_calls'),
      '[DONE]',
    );
    expect(result.choices[0].message.tool_calls).toEqual([
      { id: 'call_c', type: 'custom', custom: { name: 'run_sql', input: 'SELECT 1' } },
      { id: 'call_f', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ]);
  });

  test('a custom call is recognized by its payload when the type is left out', async () => {
    const result = await final(
      deltaChunk({ tool_calls: [{ index: 0, id: 'call_c', custom: { name: 'shell', input: 'ls' } }] }),
      deltaChunk({ tool_calls: [{ index: 0, custom: { input: ' -l' } }] }),
      deltaChunk({}, 'tool_calls'),
      '[DONE]',
    );
    expect(result.choices[0].message.tool_calls).toEqual([{ id: 'call_c', type: 'custom', custom: { name: 'shell', input: 'ls -l' } }]);
  });

  test('fields of tool-call fragments openai-rx does not know are kept, the latest value winning', async () => {
    const signature = { google: { thought_signature: 'sig-2' } };
    const result = await final(
      deltaChunk({
        tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '', strict: true }, extra_content: { google: { thought_signature: 'sig-1' } } }],
      }),
      deltaChunk({ tool_calls: [{ index: 0, function: { arguments: '{}' }, extra_content: signature }] }),
      deltaChunk({}, 'tool_calls'),
      '[DONE]',
    );
    expect(result.choices[0].message.tool_calls).toEqual([
      { id: 'call_a', type: 'function', function: { name: 'f', arguments: '{}', strict: true }, extra_content: signature },
    ]);
  });

  test('n = 3, interleaved and out of order', async () => {
    const result = await final(
      deltaChunk({ role: 'assistant', content: 'C' }, null, 2),
      deltaChunk({ role: 'assistant', content: 'A' }, null, 0),
      deltaChunk({ role: 'assistant', content: 'B' }, null, 1),
      deltaChunk({ content: '2' }, null, 1),
      deltaChunk({ content: '3' }, null, 2),
      deltaChunk({ content: '1' }, null, 0),
      deltaChunk({}, 'stop', 2),
      deltaChunk({}, 'length', 0),
      deltaChunk({}, 'stop', 1),
      '[DONE]',
    );
    expect(result.choices.map((choice) => [choice.index, choice.message.content, choice.finish_reason])).toEqual([
      [0, 'A1', 'length'],
      [1, 'B2', 'stop'],
      [2, 'C3', 'stop'],
    ]);
  });

  test('a refusal', async () => {
    const result = await final(
      deltaChunk({ role: 'assistant', content: null, refusal: '' }),
      deltaChunk({ refusal: "I'm sorry, " }),
      deltaChunk({ refusal: "I can't help with that." }),
      deltaChunk({}, 'stop'),
      '[DONE]',
    );
    expect(result.choices[0].message).toEqual(message({ refusal: "I'm sorry, I can't help with that." }));
  });

  test('content and refusal logprobs are concatenated', async () => {
    const token = (text: string, logprob: number) => ({ token: text, logprob, bytes: [...Buffer.from(text)], top_logprobs: [] });
    const result = await final(
      deltaChunk({ content: 'Hi' }, null, 0, { logprobs: { content: [token('Hi', -0.1)], refusal: null } }),
      deltaChunk({ content: ' there' }, null, 0, { logprobs: { content: [token(' there', -0.5)], refusal: null } }),
      deltaChunk({ refusal: 'No' }, null, 0, { logprobs: { content: null, refusal: [token('No', -1)] } }),
      deltaChunk({}, 'stop'),
      '[DONE]',
    );
    expect(result.choices[0].logprobs).toEqual({
      content: [token('Hi', -0.1), token(' there', -0.5)],
      refusal: [token('No', -1)],
    });
  });

  test('finish_reason "length"', async () => {
    const result = await final(deltaChunk({ content: 'cut' }), deltaChunk({}, 'length'), '[DONE]');
    expect(result.choices[0].finish_reason).toBe('length');
  });

  test.each([
    ['its own chunk with choices: []', [deltaChunk({ content: 'x' }, 'stop'), chunk({ choices: [], usage })]],
    ['the finish chunk', [deltaChunk({ content: 'x' }), chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage })]],
    ['x_groq.usage', [deltaChunk({ content: 'x' }), chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], x_groq: { id: 'req_1', usage } })]],
    ['every chunk, null until the last (stream_options.continuous_usage_stats)', [deltaChunk({ content: 'x' }, null, 0, {}), chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: null }), chunk({ choices: [], usage })]],
  ])('usage on %s', async (_placement, chunks) => {
    const result = await final(...chunks, '[DONE]');
    expect(result.usage).toEqual(usage);
    expect(result.choices[0].message.content).toBe('x');
  });

  test("Azure: an empty-choices first chunk with empty id and model, and choices without a delta, also after the stop", async () => {
    const filter = { hate: { filtered: false, severity: 'safe' } };
    const result = await final(
      { choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: [{ prompt_index: 0, content_filter_results: filter }] },
      chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null, content_filter_results: {} }] }),
      chunk({ choices: [{ index: 0, delta: { content: 'Safe text' }, finish_reason: null, content_filter_results: filter }] }),
      chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop', content_filter_results: {} }] }),
      chunk({ choices: [{ index: 0, finish_reason: null, content_filter_offsets: { check_offset: 0, start_offset: 0, end_offset: 9 }, content_filter_results: filter }] }),
      '[DONE]',
    );
    expect(result).toEqual({
      ...envelope,
      choices: [{ index: 0, message: message({ content: 'Safe text' }), finish_reason: 'stop', logprobs: null }],
    });
  });

  test('reasoning text under the name the provider used', async () => {
    const result = await final(
      deltaChunk({ reasoning_content: 'Think' }),
      deltaChunk({ reasoning_content: 'ing.', reasoning: 'Also.' }),
      deltaChunk({ content: 'Answer' }, 'stop'),
      '[DONE]',
    );
    expect(result.choices[0].message).toEqual(message({ content: 'Answer', reasoning_content: 'Thinking.', reasoning: 'Also.' }));
  });

  test('later chunks never change an earlier snapshot', async () => {
    const copies: ChatCompletion[] = [];
    const token = { token: 't', logprob: -1 };
    const all = await lastValueFrom(
      of(
        ...dataFrames(
          deltaChunk({ role: 'assistant', content: 'a', tool_calls: [{ index: 0, id: 'c1', function: { name: 'f', arguments: '{' } }] }, null, 0, { logprobs: { content: [token] } }),
          deltaChunk({ content: 'b', tool_calls: [{ index: 0, function: { arguments: '}' } }] }, null, 0, { logprobs: { content: [token] } }),
          deltaChunk({ tool_calls: [{ index: 1, id: 'c2', function: { name: 'g', arguments: '[]' } }] }),
          deltaChunk({ content: 'x' }, null, 1),
          deltaChunk({}, 'tool_calls'),
          deltaChunk({}, 'stop', 1),
          chunk({ choices: [], usage }),
          '[DONE]',
        ),
      ).pipe(
        chatChunks(),
        accumulateChatCompletion(),
        tap((snapshot) => copies.push(structuredClone(snapshot))),
        toArray(),
      ),
    );
    expect(all).toHaveLength(7);
    expect(all).toEqual(copies);
    expect(new Set(all).size).toBe(all.length);
  });

  test("a truncated stream's error carries the last snapshot as partial", async () => {
    const recording = record(of(...dataFrames(deltaChunk({ content: 'Hal' }), deltaChunk({ content: 'f an ans' }))).pipe(chatChunks(), accumulateChatCompletion()));
    await recording.done;
    const error = recording.error as StreamTruncatedError<ChatCompletion>;
    expect(error).toBeInstanceOf(StreamTruncatedError);
    expect(error.partial).toEqual(recording.values[recording.values.length - 1]);
    expect(error.partial.choices[0].message.content).toBe('Half an ans');
    expect(error.partial.choices[0].finish_reason).toBeNull();
  });
});
