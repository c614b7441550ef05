/*
 * llama.cpp's `llama-server`, as its server produces the stream: chunks whose
 * keys start with `choices`, reasoning in `delta.reasoning_content`
 * (`--reasoning-format deepseek`), the finish chunk carrying `usage` and
 * `timings`, and `data: [DONE]`. Errors: current servers send
 * `data: {"error":{"code":500,…}}`; older ones sent a bare `error: {…}` field
 * line that a spec SSE parser ignores, which openai-rx surfaces as an error.
 * Also llama-cpp-python's server, whose sse-starlette framing uses CRLF line
 * endings and `: ping - <time>` comments.
 */
import { APIError } from '../../src/index.node';
import type { TestServer } from '../helpers/server';
import { clientFor, crlf, deltaChoice, expectFaithfulFrames, finalChat, runChat, runCompletion, serveStream, wire } from './fixtures';

let server: TestServer;
afterEach(() => server?.close());

const meta = { created: 1741574500, id: 'chatcmpl-wK8f3Jq1Zr9XbV2nT6yP0sLd', model: 'gpt-3.5-turbo', system_fingerprint: 'b5890-4b2c1d3e', object: 'chat.completion.chunk' };
/** llama.cpp writes `choices` first. */
const chunk = (choices: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}) => ({ choices, ...meta, ...extra });
const choice = (delta: Record<string, unknown>, finishReason: string | null = null) => ({ finish_reason: finishReason, index: 0, delta });
const usage = { completion_tokens: 6, prompt_tokens: 14, total_tokens: 20 };
const timings = {
  prompt_n: 14,
  prompt_ms: 38.2,
  prompt_per_token_ms: 2.73,
  prompt_per_second: 366.5,
  predicted_n: 6,
  predicted_ms: 96.4,
  predicted_per_token_ms: 16.07,
  predicted_per_second: 62.24,
};

describe('llama.cpp server chat completions', () => {
  const parts = [
    wire.data(chunk([choice({ role: 'assistant', content: null })])),
    wire.data(chunk([choice({ reasoning_content: 'Easy.' })])),
    wire.data(chunk([choice({ content: 'Paris' })])),
    wire.data(chunk([choice({ content: '.' })])),
    wire.data(chunk([choice({}, 'stop')], { usage, timings })),
    wire.done,
  ];

  test('choices-first chunks, reasoning_content, usage and timings on the finish chunk', async () => {
    server = await serveStream(parts);
    const run = await runChat(clientFor(server), server);

    expectFaithfulFrames(run.frames, parts);
    expect(run.frames.values[0]).toMatchObject({ data: expect.stringMatching(/^\{"choices":/) });
    expect(run.chunks.values[4]).toMatchObject({ timings });
    expect(run.reasoning).toBe('Easy.');
    expect(run.text).toBe('Paris.');
    expect(run.final).toEqual(finalChat(meta, { content: 'Paris.', reasoning_content: 'Easy.' }, { usage }));

  });

  test('data: {"error":{"code":500,…}} is an APIError with status 500', async () => {
    const error = { code: 500, message: 'failed to decode the batch', type: 'server_error' };
    server = await serveStream([parts[0], parts[2], wire.data({ error })]);
    const run = await runChat(clientFor(server), server);

    expect(run.text).toBe('Paris');
    expect(run.chunks.error).toBeInstanceOf(APIError);
    expect(run.chunks.error).toMatchObject({ status: 500, code: 500, type: 'server_error', message: error.message, inStream: true });
  });

  test('the old bare `error: {…}` field line is an APIError, not a silent end', async () => {
    const errorLine = 'error: {"code":500,"message":"slot unavailable","type":"server_error"}\n\n';
    server = await serveStream([parts[0], parts[2], errorLine]);
    const run = await runChat(clientFor(server), server);

    expect(run.frames.values.at(-1)).toEqual({
      type: 'event',
      event: 'error',
      data: '{"code":500,"message":"slot unavailable","type":"server_error"}',
    });
    expect(run.text).toBe('Paris');
    expect(run.chunks.error).toBeInstanceOf(APIError);
    expect(run.chunks.error).toMatchObject({ message: 'slot unavailable', code: 500, status: 500, inStream: true });
    expect(run.snapshots.error).toBe(run.chunks.error);
  });

  test('legacy /v1/completions from the same server', async () => {
    const completionMeta = { created: 1741574600, id: 'cmpl-Qe4rT5yU6iO7pA8s', model: 'gpt-3.5-turbo', object: 'text_completion' };
    const completionParts = [
      wire.data({ choices: [{ text: 'Once', index: 0, logprobs: null, finish_reason: null }], ...completionMeta }),
      wire.data({ choices: [{ text: ' upon', index: 0, logprobs: null, finish_reason: null }], ...completionMeta }),
      wire.data({ choices: [{ text: '', index: 0, logprobs: null, finish_reason: 'length' }], ...completionMeta, usage, timings }),
      wire.done,
    ];
    server = await serveStream(completionParts);
    const run = await runCompletion(clientFor(server), server, { max_tokens: 2 });

    expectFaithfulFrames(run.frames, completionParts);
    expect(run.text).toBe('Once upon');
    expect(run.final).toEqual({
      id: completionMeta.id,
      object: 'text_completion',
      created: completionMeta.created,
      model: completionMeta.model,
      choices: [{ index: 0, text: 'Once upon', finish_reason: 'length', logprobs: null }],
      usage,
    });
  });
});

describe('llama-cpp-python server (sse-starlette framing)', () => {
  const pyMeta = { id: 'chatcmpl-0f7e3c1a-2b4d-4e6f-8a9b-c1d2e3f4a5b6', model: 'llama-3.2-3b-instruct', created: 1741574700, object: 'chat.completion.chunk' };
  const pyChunk = (delta: Record<string, unknown>, finishReason: string | null = null) => ({
    ...pyMeta,
    choices: [deltaChoice(delta, finishReason, { logprobs: null })],
  });
  const ping = (time: string) => crlf(wire.comment(`ping - ${time}`));
  const lf = [
    wire.data(pyChunk({ role: 'assistant' })),
    wire.data(pyChunk({ content: 'Hi' })),
    wire.data(pyChunk({ content: ' from Python' })),
    wire.data(pyChunk({}, 'stop')),
    wire.done,
  ];

  test('CRLF framing with `: ping - <time>` comments before and between frames', async () => {
    const parts = [ping('2025-03-10 12:00:00.000001'), crlf(lf[0]), crlf(lf[1]), ping('2025-03-10 12:00:15.000210'), crlf(lf[2]), crlf(lf[3]), crlf(lf[4])];
    server = await serveStream(parts);
    const run = await runChat(clientFor(server), server);

    expect(run.frames.completed).toBe(true);
    expect(run.frames.values).toEqual([
      { type: 'comment', text: 'ping - 2025-03-10 12:00:00.000001' },
      { type: 'event', data: JSON.stringify(pyChunk({ role: 'assistant' })) },
      { type: 'event', data: JSON.stringify(pyChunk({ content: 'Hi' })) },
      { type: 'comment', text: 'ping - 2025-03-10 12:00:15.000210' },
      { type: 'event', data: JSON.stringify(pyChunk({ content: ' from Python' })) },
      { type: 'event', data: JSON.stringify(pyChunk({}, 'stop')) },
      { type: 'event', data: '[DONE]' },
    ]);
    expect(run.text).toBe('Hi from Python');
    expect(run.final?.choices[0]).toEqual({
      index: 0,
      message: { role: 'assistant', content: 'Hi from Python', refusal: null },
      finish_reason: 'stop',
      logprobs: null,
    });
  });

  test('frames split mid-line and mid-CRLF across network writes parse the same', async () => {
    const text = crlf(lf.join(''));
    const splits = [text.indexOf('\r\n') + 1, text.indexOf('{"content"') + 5, text.lastIndexOf('\r\n\r\n') + 2];
    const parts = [text.slice(0, splits[0]), text.slice(splits[0], splits[1]), text.slice(splits[1], splits[2]), text.slice(splits[2])];
    server = await serveStream(parts);
    const run = await runChat(clientFor(server), server);

    expect(run.frames.values.map((frame) => frame.type === 'event' && frame.data)).toEqual(lf.map((part) => part.slice('data: '.length, -2)));
    expect(run.text).toBe('Hi from Python');
    expect(run.chunks.completed).toBe(true);
  });
});
