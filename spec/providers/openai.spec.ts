/*
 * OpenAI Chat Completions and legacy Completions, as the API reference
 * documents their streams: `data: <chunk>` frames, a first chunk with the role,
 * `usage: null` on every chunk and a final `choices: []` usage chunk when
 * `stream_options.include_usage` is set, `data: [DONE]` at the end, and
 * `data: {"error":{…}}` for an error after the stream started.
 */
import { APIError, StreamTruncatedError, type ChatCompletion } from '../../src/index.node';
import type { TestServer } from '../helpers/server';
import {
  API_KEY,
  chunkFactory,
  clientFor,
  crlf,
  deltaChoice,
  expectFaithfulFrames,
  expectNoApiKey,
  finalChat,
  runChat,
  runCompletion,
  serveStream,
  wire,
} from './fixtures';

let server: TestServer;
afterEach(() => server?.close());

const base = {
  id: 'chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG',
  object: 'chat.completion.chunk',
  created: 1741570283,
  model: 'gpt-4o-2024-08-06',
  service_tier: 'default',
  system_fingerprint: 'fp_eb9dce56a8',
};
const chunk = chunkFactory({ ...base, usage: null });
const choice = (delta: Record<string, unknown>, finishReason: string | null = null, index = 0) =>
  deltaChoice(delta, finishReason, { index, logprobs: null });
const usage = {
  prompt_tokens: 19,
  completion_tokens: 10,
  total_tokens: 29,
  prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
};

describe('OpenAI chat completions', () => {
  const textStream = [
    wire.data(chunk([choice({ role: 'assistant', content: '', refusal: null })])),
    wire.data(chunk([choice({ content: 'Hello' })])),
    wire.data(chunk([choice({ content: ' there!' })])),
    wire.data(chunk([choice({}, 'stop')])),
    wire.data(chunk([], { usage })),
    wire.done,
  ];

  test('a text answer with a usage chunk: frames, deltas, the accumulated completion', async () => {
    server = await serveStream(textStream);
    const run = await runChat(clientFor(server), server, { stream_options: { include_usage: true } });

    expectFaithfulFrames(run.frames, textStream);
    expect(run.requests[1].url).toBe('/v1/chat/completions');
    expect(run.requests[1].headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(JSON.parse(run.requests[1].body)).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(run.chunks.completed).toBe(true);
    expect(run.chunks.values).toHaveLength(5);
    expect(run.chunks.values[0]).toMatchObject({ service_tier: 'default' });
    expect(run.text).toBe('Hello there!');
    expect(run.reasoning).toBe('');
    expect(run.snapshots.values).toHaveLength(5);
    expect(run.final).toEqual(finalChat(base, { content: 'Hello there!' }, { usage }));

  });

  test('parallel tool calls arrive as fragments and accumulate into tool_calls', async () => {
    const call = (index: number, fields: Record<string, unknown>) => ({ index, ...fields });
    const parts = [
      wire.data(chunk([choice({ role: 'assistant', content: null, refusal: null })])),
      wire.data(chunk([choice({ tool_calls: [call(0, { id: 'call_A', type: 'function', function: { name: 'get_weather', arguments: '' } })] })])),
      wire.data(chunk([choice({ tool_calls: [call(0, { function: { arguments: '{"city":"Par' } })] })])),
      wire.data(chunk([choice({ tool_calls: [call(0, { function: { arguments: 'is"}' } })] })])),
      wire.data(chunk([choice({ tool_calls: [call(1, { id: 'call_B', type: 'function', function: { name: 'get_time', arguments: '' } })] })])),
      wire.data(chunk([choice({ tool_calls: [call(1, { function: { arguments: '{}' } })] })])),
      wire.data(chunk([choice({}, 'tool_calls')])),
      wire.done,
    ];
    server = await serveStream(parts);
    const run = await runChat(clientFor(server), server);

    expectFaithfulFrames(run.frames, parts);
    expect(run.toolCalls).toEqual([
      { index: 0, id: 'call_A', name: 'get_weather', arguments: '' },
      { index: 0, arguments: '{"city":"Par' },
      { index: 0, arguments: 'is"}' },
      { index: 1, id: 'call_B', name: 'get_time', arguments: '' },
      { index: 1, arguments: '{}' },
    ]);
    expect(run.final?.choices[0]).toEqual({
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        refusal: null,
        tool_calls: [
          { id: 'call_A', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_B', type: 'function', function: { name: 'get_time', arguments: '{}' } },
        ],
      },
      finish_reason: 'tool_calls',
      logprobs: null,
    });
  });

  test('a refusal with logprobs, and two choices interleaved (n: 2)', async () => {
    const logprob = (token: string) => ({ token, logprob: -0.25, bytes: [...Buffer.from(token)], top_logprobs: [] });
    const parts = [
      wire.data(chunk([choice({ role: 'assistant', content: '', refusal: null }, null, 0), choice({ role: 'assistant', refusal: '' }, null, 1)])),
      wire.data(chunk([{ ...choice({ content: 'Sure' }, null, 0), logprobs: { content: [logprob('Sure')], refusal: null } }])),
      wire.data(chunk([{ ...choice({ refusal: 'I can’t' }, null, 1), logprobs: { content: null, refusal: [logprob('I can’t')] } }])),
      wire.data(chunk([{ ...choice({ content: '.' }, 'stop', 0), logprobs: { content: [logprob('.')], refusal: null } }])),
      wire.data(chunk([choice({ refusal: ' help.' }, null, 1)])),
      wire.data(chunk([choice({}, 'stop', 1)])),
      wire.done,
    ];
    server = await serveStream(parts);
    const run = await runChat(clientFor(server), server, { n: 2, logprobs: true });

    expect(run.text).toBe('Sure.');
    expect(run.final?.choices.map((c) => c.message)).toEqual([
      { role: 'assistant', content: 'Sure.', refusal: null },
      { role: 'assistant', content: null, refusal: 'I can’t help.' },
    ]);
    expect(run.final?.choices[0].logprobs).toEqual({ content: [logprob('Sure'), logprob('.')], refusal: null });
    expect(run.final?.choices[1].logprobs).toEqual({ content: null, refusal: [logprob('I can’t')] });
    expect(run.final?.choices.map((c) => c.finish_reason)).toEqual(['stop', 'stop']);
  });

  test('data: {"error":{…}} after some content ends every pipeline with the APIError', async () => {
    const error = { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null };
    const parts = [textStream[0], textStream[1], wire.data({ error })];
    server = await serveStream(parts);
    const run = await runChat(clientFor(server), server);

    expectFaithfulFrames(run.frames, parts);
    expect(run.chunks.values).toHaveLength(2);
    expect(run.text).toBe('Hello');
    for (const recording of [run.chunks, run.snapshots]) {
      expect(recording.error).toBeInstanceOf(APIError);
      expect(recording.error).toMatchObject({ message: error.message, type: 'server_error', code: null, inStream: true, body: { error } });
    }
    expectNoApiKey(run.chunks.error);
  });

  test('a stream cut before [DONE] mid-answer is truncated, and the partial completion is kept', async () => {
    server = await serveStream(textStream.slice(0, 3));
    const run = await runChat(clientFor(server), server);

    expect(run.text).toBe('Hello there!');
    expect(run.chunks.error).toBeInstanceOf(StreamTruncatedError);
    const truncated = run.snapshots.error as StreamTruncatedError<ChatCompletion>;
    expect(truncated).toBeInstanceOf(StreamTruncatedError);
    expect(truncated.partial.choices[0].message.content).toBe('Hello there!');
    expect(truncated.partial.choices[0].finish_reason).toBeNull();
  });

  test('a proxy that re-frames lines with CRLF, or mixes LF and CRLF, changes nothing parsed', async () => {
    const mixed = textStream.map((part, i) => (i % 2 === 0 ? crlf(part) : part));
    for (const parts of [textStream.map(crlf), mixed]) {
      server = await serveStream(parts);
      const run = await runChat(clientFor(server), server);
      expect(run.frames.values.map((frame) => frame.type === 'event' && frame.data)).toEqual(
        textStream.map((part) => part.slice('data: '.length, -2)),
      );
      expect(run.text).toBe('Hello there!');
      expect(run.final?.usage).toEqual(usage);
      await server.close();
    }
  });
});

describe('OpenAI-compatible gateways (no single provider)', () => {
  test('a finish_reason repeated on trailing chunks changes nothing, with or without [DONE]', async () => {
    const parts = [
      wire.data(chunk([choice({ role: 'assistant', content: 'Once.' }, 'stop')])),
      wire.data(chunk([choice({ content: '' }, 'stop')])),
      wire.data(chunk([choice({}, 'stop')], { usage })),
    ];
    for (const stream of [parts, [...parts, wire.done]]) {
      server = await serveStream(stream);
      const run = await runChat(clientFor(server), server);
      expect(run.chunks.completed).toBe(true);
      expect(run.text).toBe('Once.');
      expect(run.final).toEqual(finalChat(base, { content: 'Once.' }, { usage }));
      await server.close();
    }
  });

  test('an `event: error` frame with no [DONE] after it is an APIError', async () => {
    const parts = [
      wire.data(chunk([choice({ role: 'assistant', content: 'Par' })])),
      'event: error\ndata: {"message":"upstream timed out","code":"gateway_timeout"}\n\n',
    ];
    server = await serveStream(parts);
    const run = await runChat(clientFor(server), server);

    expectFaithfulFrames(run.frames, parts);
    expect(run.text).toBe('Par');
    expect(run.chunks.error).toBeInstanceOf(APIError);
    expect(run.chunks.error).toMatchObject({ message: 'upstream timed out', code: 'gateway_timeout', inStream: true });
    expect(run.snapshots.error).toBe(run.chunks.error);
  });
});

describe('OpenAI legacy completions', () => {
  const completionBase = { id: 'cmpl-9Aqk2xRkN0kVr2', object: 'text_completion', created: 1741570300, model: 'gpt-3.5-turbo-instruct' };
  const completionChunk = chunkFactory(completionBase);
  const text = (value: string, finishReason: string | null = null, logprobs: unknown = null) => ({
    text: value,
    index: 0,
    logprobs,
    finish_reason: finishReason,
  });
  const logprobs = (tokens: string[], offset: number) => ({
    tokens,
    token_logprobs: tokens.map(() => -0.125),
    top_logprobs: tokens.map((token) => ({ [token]: -0.125 })),
    text_offset: tokens.map((_token, i) => offset + tokens.slice(0, i).join('').length),
  });
  const completionUsage = { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 };

  test('text with logprobs and a usage chunk: frames, deltas, the accumulated completion', async () => {
    const parts = [
      wire.data(completionChunk([text('\n\n', null, logprobs(['\n\n'], 7))])),
      wire.data(completionChunk([text('Hi', null, logprobs(['Hi'], 9))])),
      wire.data(completionChunk([text('!', 'stop', logprobs(['!'], 11))])),
      wire.data(completionChunk([], { usage: completionUsage })),
      wire.done,
    ];
    server = await serveStream(parts);
    const run = await runCompletion(clientFor(server), server, { logprobs: 1, stream_options: { include_usage: true } });

    expectFaithfulFrames(run.frames, parts);
    expect(run.requests[1].url).toBe('/v1/completions');
    expect(JSON.parse(run.requests[1].body)).toMatchObject({ prompt: 'Say hi', logprobs: 1, stream: true });
    expect(run.text).toBe('\n\nHi!');
    expect(run.final).toEqual({
      ...completionBase,
      choices: [
        {
          index: 0,
          text: '\n\nHi!',
          finish_reason: 'stop',
          logprobs: {
            tokens: ['\n\n', 'Hi', '!'],
            token_logprobs: [-0.125, -0.125, -0.125],
            top_logprobs: [{ '\n\n': -0.125 }, { Hi: -0.125 }, { '!': -0.125 }],
            text_offset: [7, 9, 11],
          },
        },
      ],
      usage: completionUsage,
    });
  });

  test('an in-stream error ends the completion stream with APIError', async () => {
    const parts = [wire.data(completionChunk([text('Hi')])), wire.data({ error: { message: 'Overloaded', type: 'server_error', code: 'overloaded' } })];
    server = await serveStream(parts);
    const run = await runCompletion(clientFor(server), server);

    expect(run.text).toBe('Hi');
    expect(run.chunks.error).toMatchObject({ message: 'Overloaded', code: 'overloaded', inStream: true });
    expect(run.snapshots.error).toBeInstanceOf(APIError);
  });
});
