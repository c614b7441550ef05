/*
 * vLLM's OpenAI-compatible server, as its code and documentation produce the
 * stream: `reasoning_content` with a reasoning parser, `stop_reason` and
 * `logprobs: null` on choices, usage on every chunk with
 * `stream_options.continuous_usage_stats`, a `choices: []` usage chunk with
 * `include_usage`, and errors as a flat `{"object":"error","message",…,
 * "code":400}` (in the stream and as an HTTP body). The legacy `/completions`
 * stream carries legacy logprobs.
 */
import { APIError } from '../../src/index.node';
import type { TestServer } from '../helpers/server';
import { startServer } from '../helpers/server';
import { errorOf } from '../helpers/streams';
import {
  chunkFactory,
  clientFor,
  deltaChoice,
  expectFaithfulFrames,
  finalChat,
  runChat,
  runCompletion,
  serveStream,
  wire,
} from './fixtures';

let server: TestServer;
afterEach(() => server?.close());

const base = { id: 'chatcmpl-3a9f4e2b8c7d41f0a6b5c4d3e2f1a0b9', object: 'chat.completion.chunk', created: 1741574000, model: 'Qwen/Qwen3-8B' };
const chunk = chunkFactory(base);
const choice = (delta: Record<string, unknown>, finishReason: string | null = null) =>
  deltaChoice(delta, finishReason, { logprobs: null, ...(finishReason && { stop_reason: null }) });
const usageAfter = (completion: number) => ({ prompt_tokens: 9, total_tokens: 9 + completion, completion_tokens: completion });

describe('vLLM chat completions', () => {
  test('reasoning_content, then content; usage on every chunk (continuous_usage_stats)', async () => {
    const deltas = [
      { role: 'assistant', content: '' },
      { reasoning_content: 'User wants' },
      { reasoning_content: ' a number.' },
      { content: '42' },
    ];
    const parts = [
      ...deltas.map((delta, i) => wire.data(chunk([choice(delta)], { usage: usageAfter(i) }))),
      wire.data(chunk([choice({ content: '' }, 'stop')], { usage: usageAfter(4) })),
      wire.data(chunk([], { usage: usageAfter(4) })),
      wire.done,
    ];
    server = await serveStream(parts);
    const run = await runChat(clientFor(server), server, { stream_options: { include_usage: true, continuous_usage_stats: true } });

    expectFaithfulFrames(run.frames, parts);
    expect(run.chunks.values[4].choices[0]).toMatchObject({ stop_reason: null, finish_reason: 'stop' });
    expect(run.reasoning).toBe('User wants a number.');
    expect(run.text).toBe('42');
    expect(run.snapshots.values[2].usage).toEqual(usageAfter(2));
    expect(run.final).toEqual(finalChat(base, { content: '42', reasoning_content: 'User wants a number.' }, { usage: usageAfter(4) }));

  });

  test('a flat {"object":"error",…} in the stream is an APIError with the status from its numeric code', async () => {
    const flat = { object: 'error', message: 'This model\'s maximum context length is 4096 tokens.', type: 'BadRequestError', param: null, code: 400 };
    const parts = [wire.data(chunk([choice({ role: 'assistant', content: '' })])), wire.data(flat), wire.done];
    server = await serveStream(parts);
    const run = await runChat(clientFor(server), server);

    expectFaithfulFrames(run.frames, parts);
    expect(run.chunks.values).toHaveLength(1);
    expect(run.chunks.error).toBeInstanceOf(APIError);
    expect(run.chunks.error).toMatchObject({ status: 400, code: 400, type: 'BadRequestError', message: flat.message, inStream: true, body: flat });
    expect(run.snapshots.error).toBe(run.chunks.error);
  });

  test('the same flat error as an HTTP error body', async () => {
    const flat = { object: 'error', message: 'The model `nope` does not exist.', type: 'NotFoundError', param: null, code: 404 };
    server = await startServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(flat));
    });
    const error = await errorOf(clientFor(server).chat.completions.stream({ model: 'nope', messages: [] }));

    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ status: 404, code: 404, type: 'NotFoundError', inStream: false });
    expect((error as APIError).message).toContain('does not exist');
  });
});

describe('vLLM legacy completions', () => {
  const completionBase = { id: 'cmpl-b1c2d3e4f5a6', object: 'text_completion', created: 1741574100, model: 'Qwen/Qwen3-8B' };
  const completionChunk = chunkFactory(completionBase);
  const text = (value: string, finishReason: string | null, logprobs: unknown) => ({
    index: 0,
    text: value,
    logprobs,
    finish_reason: finishReason,
    stop_reason: null,
  });
  const logprobs = (token: string, offset: number, logprob: number) => ({
    text_offset: [offset],
    token_logprobs: [logprob],
    tokens: [token],
    top_logprobs: [{ [token]: logprob }],
  });

  test('legacy logprobs, and a finish_reason repeated on a trailing empty chunk', async () => {
    const usage = { prompt_tokens: 3, total_tokens: 6, completion_tokens: 3 };
    const parts = [
      wire.data(completionChunk([text(' The', null, logprobs(' The', 12, -0.5))], { usage: null })),
      wire.data(completionChunk([text(' sky', null, logprobs(' sky', 16, -1.25))], { usage: null })),
      wire.data(completionChunk([text(' is', 'length', logprobs(' is', 20, -0.75))], { usage: null })),
      wire.data(completionChunk([text('', 'length', null)], { usage: null })),
      wire.data(completionChunk([], { usage })),
      wire.done,
    ];
    server = await serveStream(parts);
    const run = await runCompletion(clientFor(server), server, { logprobs: 1, max_tokens: 3 });

    expectFaithfulFrames(run.frames, parts);
    expect(run.text).toBe(' The sky is');
    expect(run.final).toEqual({
      ...completionBase,
      choices: [
        {
          index: 0,
          text: ' The sky is',
          finish_reason: 'length',
          logprobs: {
            tokens: [' The', ' sky', ' is'],
            token_logprobs: [-0.5, -1.25, -0.75],
            top_logprobs: [{ ' The': -0.5 }, { ' sky': -1.25 }, { ' is': -0.75 }],
            text_offset: [12, 16, 20],
          },
        },
      ],
      usage,
    });
  });

  test('a flat error in the completion stream is an APIError', async () => {
    const flat = { object: 'error', message: 'Sampling failed', type: 'InternalServerError', param: null, code: 500 };
    server = await serveStream([wire.data(completionChunk([text('A', null, null)])), wire.data(flat), wire.done]);
    const run = await runCompletion(clientFor(server), server);

    expect(run.text).toBe('A');
    expect(run.chunks.error).toMatchObject({ status: 500, code: 500, message: 'Sampling failed', inStream: true });
  });
});
