/*
 * LM Studio's OpenAI-compatible server, as it produces the stream:
 * `system_fingerprint` set to the model id, `logprobs: null` on choices, a
 * separate finish chunk with an empty delta, a `choices: []` usage chunk with
 * `stream_options.include_usage`, and `data: [DONE]`. LM Studio's HTTP errors
 * are `{"error":"<text>"}`; the same string form is used for an error inside
 * the stream (its exact in-stream shape is not documented).
 */
import { APIError } from '../../src/index.node';
import type { TestServer } from '../helpers/server';
import { startServer } from '../helpers/server';
import { errorOf } from '../helpers/streams';
import { chunkFactory, clientFor, deltaChoice, expectFaithfulFrames, finalChat, runChat, serveStream, wire } from './fixtures';

let server: TestServer;
afterEach(() => server?.close());

const base = {
  id: 'chatcmpl-9x8w7v6u5t4s3r2q1p0o',
  object: 'chat.completion.chunk',
  created: 1741575000,
  model: 'qwen2.5-7b-instruct',
  system_fingerprint: 'qwen2.5-7b-instruct',
};
const chunk = chunkFactory(base);
const choice = (delta: Record<string, unknown>, finishReason: string | null = null) => deltaChoice(delta, finishReason, { logprobs: null });

describe('LM Studio chat completions', () => {
  test('text, a separate finish chunk and a usage chunk', async () => {
    const usage = { prompt_tokens: 21, completion_tokens: 4, total_tokens: 25 };
    const parts = [
      wire.data(chunk([choice({ role: 'assistant', content: 'Local' })])),
      wire.data(chunk([choice({ content: ' model' })])),
      wire.data(chunk([choice({ content: ' here.' })])),
      wire.data(chunk([choice({}, 'stop')])),
      wire.data(chunk([], { usage })),
      wire.done,
    ];
    server = await serveStream(parts);
    const run = await runChat(clientFor(server, { apiKey: 'lm-studio' }), server, { stream_options: { include_usage: true } });

    expectFaithfulFrames(run.frames, parts);
    expect(run.text).toBe('Local model here.');
    expect(run.final).toEqual(finalChat(base, { content: 'Local model here.' }, { usage }));

  });

  test('a string error in the stream is an APIError', async () => {
    const parts = [wire.data(chunk([choice({ role: 'assistant', content: 'Lo' })])), wire.data({ error: 'Model unloaded while generating.' })];
    server = await serveStream(parts);
    const run = await runChat(clientFor(server), server);

    expectFaithfulFrames(run.frames, parts);
    expect(run.text).toBe('Lo');
    expect(run.chunks.error).toBeInstanceOf(APIError);
    expect(run.chunks.error).toMatchObject({ message: 'Model unloaded while generating.', inStream: true });
  });

  test('an HTTP error with a string body', async () => {
    server = await startServer((_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: "'messages' field is required" }));
    });
    const error = await errorOf(clientFor(server).chat.completions.stream({ model: 'qwen2.5-7b-instruct', messages: [] }));

    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ status: 400, message: "400 'messages' field is required", inStream: false });
  });

  test('a stream with no finish and no [DONE] is truncated', async () => {
    server = await serveStream([wire.data(chunk([choice({ role: 'assistant', content: 'Lo' })]))]);
    const run = await runChat(clientFor(server), server);

    expect(run.chunks.error).toMatchObject({ name: 'StreamTruncatedError', partial: { chunks: 1, unfinishedChoices: [0] } });
    expect(run.snapshots.error).toMatchObject({ partial: { choices: [{ message: { content: 'Lo' }, finish_reason: null }] } });
  });
});
