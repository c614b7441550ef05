/*
 * Groq, as its API reference describes the stream: an `x_groq` object with the
 * request id on the first chunk, usage under `x_groq.usage` (with queue and
 * timing fields) on the last chunk, reasoning in `delta.reasoning`
 * (`reasoning_format: "parsed"`), and `data: [DONE]`. Groq does not document
 * its in-stream error shape; the generic `data: {"error":{…}}` followed by
 * `[DONE]` is used for it.
 */
import { APIError, StreamTruncatedError, type ChatCompletion } from '../../src/index.node';
import type { TestServer } from '../helpers/server';
import { chunkFactory, clientFor, deltaChoice, expectFaithfulFrames, finalChat, runChat, serveStream, wire } from './fixtures';

let server: TestServer;
afterEach(() => server?.close());

const base = {
  id: 'chatcmpl-4f2a0d1c-9b7e-4c35-8a61-2e5d0b3f7c19',
  object: 'chat.completion.chunk',
  created: 1741572500,
  model: 'qwen/qwen3-32b',
  system_fingerprint: 'fp_5f849c5a0b',
};
const chunk = chunkFactory(base);
const choice = (delta: Record<string, unknown>, finishReason: string | null = null) => deltaChoice(delta, finishReason, { logprobs: null });
const groqUsage = {
  queue_time: 0.054,
  prompt_tokens: 18,
  prompt_time: 0.0021,
  completion_tokens: 9,
  completion_time: 0.0213,
  total_tokens: 27,
  total_time: 0.0234,
};

describe('Groq chat completions', () => {
  const parts = [
    wire.data(chunk([choice({ role: 'assistant', content: '' })], { x_groq: { id: 'req_01jnq8x3vdf0b8s6c2rk4m7t9y' } })),
    wire.data(chunk([choice({ reasoning: 'Short answer.' })])),
    wire.data(chunk([choice({ content: 'Fast' })])),
    wire.data(chunk([choice({ content: ' reply.' })])),
    wire.data(chunk([choice({}, 'stop')], { x_groq: { id: 'req_01jnq8x3vdf0b8s6c2rk4m7t9y', usage: groqUsage } })),
    wire.done,
  ];

  test('usage under x_groq.usage on the last chunk, reasoning in delta.reasoning', async () => {
    server = await serveStream(parts);
    const run = await runChat(clientFor(server, { path: '/openai/v1' }), server, { reasoning_format: 'parsed' });

    expectFaithfulFrames(run.frames, parts);
    expect(run.requests[1].url).toBe('/openai/v1/chat/completions');
    expect(run.chunks.values[0]).toMatchObject({ x_groq: { id: 'req_01jnq8x3vdf0b8s6c2rk4m7t9y' } });
    expect(run.reasoning).toBe('Short answer.');
    expect(run.text).toBe('Fast reply.');
    expect(run.final).toEqual(finalChat(base, { content: 'Fast reply.', reasoning: 'Short answer.' }, { usage: groqUsage }));

  });

  test('data: {"error":{…}} followed by [DONE] is an APIError, not a completed stream', async () => {
    const error = { message: 'Please reduce the length of the messages or completion.', type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' };
    const errorParts = [parts[0], parts[2], wire.data({ error }), wire.done];
    server = await serveStream(errorParts);
    const run = await runChat(clientFor(server, { path: '/openai/v1' }), server);

    expectFaithfulFrames(run.frames, errorParts);
    expect(run.text).toBe('Fast');
    expect(run.chunks.error).toBeInstanceOf(APIError);
    expect(run.chunks.error).toMatchObject({ code: 'context_length_exceeded', param: 'messages', type: 'invalid_request_error', inStream: true });
    expect(run.snapshots.error).toBe(run.chunks.error);
  });

  test('a stream that stops after the reasoning is truncated, with the reasoning kept', async () => {
    server = await serveStream(parts.slice(0, 2));
    const run = await runChat(clientFor(server, { path: '/openai/v1' }), server);

    const truncated = run.snapshots.error as StreamTruncatedError<ChatCompletion>;
    expect(truncated).toBeInstanceOf(StreamTruncatedError);
    expect(truncated.partial.choices[0].message).toEqual({ role: 'assistant', content: '', refusal: null, reasoning: 'Short answer.' });
  });
});
