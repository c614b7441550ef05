/*
 * Ollama's OpenAI-compatible endpoint (`/v1/chat/completions`), as its
 * compatibility documentation and server produce the stream: `role` repeated
 * on every delta, `system_fingerprint: "fp_ollama"`, reasoning in
 * `delta.reasoning` for thinking models, the last piece of content and
 * `finish_reason` in the same chunk, whole tool calls in a single chunk, a
 * `choices: []` usage chunk with `stream_options.include_usage`, and
 * `data: {"error":{…}}` for errors.
 */
import { APIError } from '../../src/index.node';
import type { TestServer } from '../helpers/server';
import { startServer } from '../helpers/server';
import { chunkFactory, clientFor, deltaChoice, expectFaithfulFrames, finalChat, runChat, serveStream, wire } from './fixtures';
import { errorOf } from '../helpers/streams';

let server: TestServer;
afterEach(() => server?.close());

const base = { id: 'chatcmpl-512', object: 'chat.completion.chunk', created: 1741573500, model: 'qwen3:8b', system_fingerprint: 'fp_ollama' };
const chunk = chunkFactory(base);
const say = (fields: Record<string, unknown>, finishReason: string | null = null) =>
  deltaChoice({ role: 'assistant', content: '', ...fields }, finishReason);

describe('Ollama chat completions (OpenAI compatibility)', () => {
  test('role on every delta, reasoning, content and finish_reason in one chunk, a usage chunk', async () => {
    const usage = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };
    const parts = [
      wire.data(chunk([say({ reasoning: 'Greeting' })])),
      wire.data(chunk([say({ reasoning: ' back.' })])),
      wire.data(chunk([say({ content: 'Hello' })])),
      wire.data(chunk([say({ content: ' there.' }, 'stop')])),
      wire.data(chunk([], { usage })),
      wire.done,
    ];
    server = await serveStream(parts);
    const run = await runChat(clientFor(server), server, { stream_options: { include_usage: true } });

    expectFaithfulFrames(run.frames, parts);
    expect(run.chunks.values.slice(0, 4).every((chunk) => chunk.choices[0].delta?.role === 'assistant')).toBe(true);
    expect(run.reasoning).toBe('Greeting back.');
    expect(run.text).toBe('Hello there.');
    expect(run.final).toEqual(finalChat(base, { content: 'Hello there.', reasoning: 'Greeting back.' }, { usage }));

  });

  test('a whole tool call in one chunk', async () => {
    const toolCall = { id: 'call_k2x9', index: 0, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } };
    const parts = [wire.data(chunk([say({ tool_calls: [toolCall] })])), wire.data(chunk([say({}, 'tool_calls')])), wire.done];
    server = await serveStream(parts);
    const run = await runChat(clientFor(server), server, { tools: [{ type: 'function', function: { name: 'get_weather' } }] });

    expect(run.toolCalls).toEqual([{ index: 0, id: 'call_k2x9', name: 'get_weather', arguments: '{"city":"Oslo"}' }]);
    expect(run.final?.choices[0]).toMatchObject({
      message: { content: '', tool_calls: [{ id: 'call_k2x9', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
      finish_reason: 'tool_calls',
    });
  });

  test('data: {"error":{…}} mid-stream is an APIError', async () => {
    const error = { message: 'model runner has unexpectedly stopped', type: 'api_error', param: null, code: null };
    const parts = [wire.data(chunk([say({ content: 'Hel' })])), wire.data({ error })];
    server = await serveStream(parts);
    const run = await runChat(clientFor(server), server);

    expect(run.text).toBe('Hel');
    expect(run.chunks.error).toBeInstanceOf(APIError);
    expect(run.chunks.error).toMatchObject({ message: error.message, type: 'api_error', inStream: true });
  });

  test('a model that is not pulled: HTTP 404 with an OpenAI-shaped body', async () => {
    const body = { error: { message: 'model "llama9" not found, try pulling it first', type: 'api_error', param: null, code: null } };
    server = await startServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
    const error = await errorOf(clientFor(server).chat.completions.stream({ model: 'llama9', messages: [] }));

    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ status: 404, type: 'api_error', inStream: false, body });
    expect((error as APIError).message).toContain('not found, try pulling it first');
  });
});
