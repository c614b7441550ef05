/*
 * OpenRouter, as its streaming and error documentation describes the stream:
 * `: OPENROUTER PROCESSING` comments to keep the connection open (before the
 * first chunk and between chunks), reasoning in `delta.reasoning` (plus
 * `reasoning_details`), a `provider` field, usage (with `cost`) on a final
 * chunk whose `choices` is not empty, and errors after the stream started as
 * a chunk with an `error` object beside `choices` and `finish_reason: "error"`.
 */
import { APIError } from '../../src/index.node';
import type { TestServer } from '../helpers/server';
import {
  chunkFactory,
  clientFor,
  deltaChoice,
  expectFaithfulFrames,
  expectNoApiKey,
  finalChat,
  runChat,
  serveStream,
  wire,
} from './fixtures';

let server: TestServer;
afterEach(() => server?.close());

const PROCESSING = wire.comment('OPENROUTER PROCESSING');
const base = { id: 'gen-1741572000-Xk2pQ9rT', provider: 'OpenAI', model: 'openai/o4-mini', object: 'chat.completion.chunk', created: 1741572000 };
const chunk = chunkFactory(base);
const choice = (delta: Record<string, unknown>, finishReason: string | null = null) =>
  deltaChoice(delta, finishReason, { native_finish_reason: finishReason, logprobs: null });
const usage = {
  prompt_tokens: 12,
  completion_tokens: 40,
  total_tokens: 52,
  cost: 0.000189,
  is_byok: false,
  prompt_tokens_details: { cached_tokens: 0 },
  cost_details: { upstream_inference_cost: null },
  completion_tokens_details: { reasoning_tokens: 32 },
};

describe('OpenRouter chat completions', () => {
  const parts = [
    PROCESSING,
    PROCESSING,
    wire.data(chunk([choice({ role: 'assistant', content: '', reasoning: 'The user', reasoning_details: [{ type: 'reasoning.summary', summary: 'The user' }] })])),
    PROCESSING,
    wire.data(chunk([choice({ role: 'assistant', content: '', reasoning: ' greets me.' })])),
    wire.data(chunk([choice({ role: 'assistant', content: 'Hi! ' })])),
    wire.data(chunk([choice({ role: 'assistant', content: 'How can I help?' })])),
    wire.data(chunk([choice({ role: 'assistant', content: '' }, 'stop')])),
    wire.data(chunk([choice({ role: 'assistant', content: '' })], { usage })),
    wire.done,
  ];

  test('keep-alive comments, reasoning, and usage with cost on a chunk whose choices is not empty', async () => {
    server = await serveStream(parts);
    const run = await runChat(clientFor(server, { path: '/api/v1', headers: { 'HTTP-Referer': 'https://example.test', 'X-Title': 'conformance' } }), server);

    expectFaithfulFrames(run.frames, parts);
    expect(run.frames.values.filter((frame) => frame.type === 'comment')).toEqual([
      { type: 'comment', text: 'OPENROUTER PROCESSING' },
      { type: 'comment', text: 'OPENROUTER PROCESSING' },
      { type: 'comment', text: 'OPENROUTER PROCESSING' },
    ]);
    expect(run.requests[1].url).toBe('/api/v1/chat/completions');
    expect(run.requests[1].headers['x-title']).toBe('conformance');
    expect(run.chunks.completed).toBe(true);
    expect(run.chunks.values).toHaveLength(6);
    expect(run.chunks.values[0]).toMatchObject({ provider: 'OpenAI' });
    expect(run.reasoning).toBe('The user greets me.');
    expect(run.text).toBe('Hi! How can I help?');
    expect(run.final).toEqual(finalChat(base, { content: 'Hi! How can I help?', reasoning: 'The user greets me.' }, { usage }));

  });

  test('the same stream completes without [DONE]: the usage chunk after the finish does not reopen the choice', async () => {
    server = await serveStream(parts.slice(0, -1));
    const run = await runChat(clientFor(server, { path: '/api/v1' }), server);

    expect(run.chunks.completed).toBe(true);
    expect(run.final?.usage).toEqual(usage);
  });

  test('an error beside choices with a numeric code ends the stream with APIError and that status', async () => {
    const error = { code: 502, message: 'Provider returned error', metadata: { provider_name: 'OpenAI', raw: 'upstream reset' } };
    const errorParts = [
      PROCESSING,
      wire.data(chunk([choice({ role: 'assistant', content: 'Partial ' })])),
      PROCESSING,
      wire.data(chunk([choice({ content: '' }, 'error')], { error })),
    ];
    server = await serveStream(errorParts);
    const run = await runChat(clientFor(server, { path: '/api/v1' }), server);

    expectFaithfulFrames(run.frames, errorParts);
    expect(run.text).toBe('Partial ');
    expect(run.chunks.values).toHaveLength(1);
    const raised = run.chunks.error as APIError;
    expect(raised).toBeInstanceOf(APIError);
    expect(raised).toMatchObject({ status: 502, code: 502, message: 'Provider returned error', inStream: true });
    expect(raised.body).toMatchObject({ error, choices: [{ finish_reason: 'error' }] });
    expect(run.snapshots.error).toBe(raised);
    expectNoApiKey(raised);
  });
});
