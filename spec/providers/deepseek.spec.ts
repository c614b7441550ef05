/*
 * DeepSeek, as its API documentation describes the stream: `: keep-alive`
 * comments while the request waits to be scheduled, ids that are bare UUIDs,
 * reasoning in `delta.reasoning_content` (deepseek-reasoner) with `content:
 * null` until the answer starts, usage (with prompt cache hit/miss counts) on
 * the chunk that carries `finish_reason`, and `data: [DONE]`.
 */
import { StreamTruncatedError, type ChatCompletion } from '../../src/index.node';
import type { TestServer } from '../helpers/server';
import { chunkFactory, clientFor, deltaChoice, expectFaithfulFrames, finalChat, runChat, serveStream, wire } from './fixtures';

let server: TestServer;
afterEach(() => server?.close());

const KEEP_ALIVE = wire.comment('keep-alive');
const base = {
  id: '9d3c4b1a-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
  object: 'chat.completion.chunk',
  created: 1741573000,
  model: 'deepseek-reasoner',
  system_fingerprint: 'fp_5417b77867_prod0225',
};
const chunk = chunkFactory(base);
const choice = (delta: Record<string, unknown>, finishReason: string | null = null) => deltaChoice(delta, finishReason, { logprobs: null });
const usage = {
  prompt_tokens: 13,
  completion_tokens: 25,
  total_tokens: 38,
  prompt_tokens_details: { cached_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 17 },
  prompt_cache_hit_tokens: 0,
  prompt_cache_miss_tokens: 13,
};

describe('DeepSeek chat completions', () => {
  const parts = [
    KEEP_ALIVE,
    KEEP_ALIVE,
    wire.data(chunk([choice({ role: 'assistant', content: null, reasoning_content: '' })])),
    wire.data(chunk([choice({ content: null, reasoning_content: 'Compute' })])),
    wire.data(chunk([choice({ content: null, reasoning_content: ' 2+2.' })])),
    KEEP_ALIVE,
    wire.data(chunk([choice({ content: '4', reasoning_content: null })])),
    wire.data(chunk([choice({ content: '', reasoning_content: null }, 'stop')], { usage })),
    wire.done,
  ];

  test('keep-alive comments, reasoning_content, and usage on the finish chunk', async () => {
    server = await serveStream(parts);
    const run = await runChat(clientFor(server, { path: '' }), server);

    expectFaithfulFrames(run.frames, parts);
    expect(run.frames.values.filter((frame) => frame.type === 'comment')).toHaveLength(3);
    expect(run.requests[1].url).toBe('/chat/completions');
    expect(run.chunks.values.map((chunk) => chunk.id)).toEqual(Array(5).fill(base.id));
    expect(run.reasoning).toBe('Compute 2+2.');
    expect(run.text).toBe('4');
    expect(run.final).toEqual(finalChat(base, { content: '4', reasoning_content: 'Compute 2+2.' }, { usage }));

  });

  test('without [DONE] the stream completes, because the usage chunk also finished the choice', async () => {
    server = await serveStream(parts.slice(0, -1));
    const run = await runChat(clientFor(server, { path: '' }), server);

    expect(run.chunks.completed).toBe(true);
    expect(run.final?.usage).toEqual(usage);
  });

  test('a connection that closes during the reasoning is truncated, with the reasoning kept', async () => {
    server = await serveStream(parts.slice(0, 5));
    const run = await runChat(clientFor(server, { path: '' }), server);

    expect(run.chunks.error).toBeInstanceOf(StreamTruncatedError);
    const truncated = run.snapshots.error as StreamTruncatedError<ChatCompletion>;
    expect(truncated.partial.id).toBe(base.id);
    expect(truncated.partial.choices[0].message).toEqual({ role: 'assistant', content: null, refusal: null, reasoning_content: 'Compute 2+2.' });
  });
});
