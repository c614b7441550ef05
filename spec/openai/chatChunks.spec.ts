import { Observable, lastValueFrom, of, toArray } from 'rxjs';
import { buildClient } from '../../src/client';
import { APIError, StreamProtocolError, StreamTruncatedError } from '../../src/errors';
import { chatChunks } from '../../src/openai/chatChunks';
import type { ChoiceStreamProgress } from '../../src/openai/jsonEvents';
import type { SseFrame } from '../../src/sse/types';
import { chunk, dataFrames, deltaChunk } from '../helpers/chatFrames';
import { chatData, sseHead, startServer, type TestServer } from '../helpers/server';
import { TRANSPORTS, errorOf, record } from '../helpers/streams';

const run = (frames: SseFrame[]) => record(of(...frames).pipe(chatChunks()));

describe('chatChunks', () => {
  test('validates chunks loosely: provider fields are kept', async () => {
    const groq = chunk({
      choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null, provider_extra: 1 }],
      x_groq: { id: 'req_1', usage: { prompt_tokens: 3 } },
      provider: 'Together',
      timings: { predicted_ms: 12 },
    });
    const chunks = await lastValueFrom(of(...dataFrames(groq, '[DONE]')).pipe(chatChunks(), toArray()));
    expect(chunks).toEqual([groq]);
  });

  test('a source that ends right after [DONE] is released at once, with no timer left', async () => {
    jest.useFakeTimers();
    let sourceClosed = false;
    const source = new Observable<SseFrame>((subscriber) => {
      subscriber.next(dataFrames(deltaChunk({ content: 'a' }, 'stop'))[0]);
      subscriber.next({ type: 'event', data: '[DONE]' });
      subscriber.complete();
      return () => (sourceClosed = true);
    });
    const recording = record(source.pipe(chatChunks()));
    await recording.done;
    expect(recording.completed).toBe(true);
    expect(sourceClosed).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
    jest.useRealTimers();
  });

  test('a stream cut short without [DONE] fails with StreamTruncatedError carrying its progress', async () => {
    const recording = run(dataFrames(deltaChunk({ role: 'assistant', content: '' }), deltaChunk({ content: 'partial' })));
    await recording.done;
    expect(recording.values).toHaveLength(2);
    const error = recording.error as StreamTruncatedError<ChoiceStreamProgress>;
    expect(error).toBeInstanceOf(StreamTruncatedError);
    expect(error.partial).toEqual({ chunks: 2, unfinishedChoices: [0] });
    expect(error.message).toContain('without [DONE]');
  });

  test('an empty stream is truncated too', async () => {
    const error = (await errorOf(of<SseFrame>({ type: 'comment', text: 'ping' }).pipe(chatChunks()))) as StreamTruncatedError;
    expect(error).toBeInstanceOf(StreamTruncatedError);
    expect(error.partial).toEqual({ chunks: 0, unfinishedChoices: [] });
  });

  test('without [DONE] it completes when every choice that started has finished', async () => {
    const recording = run(
      dataFrames(
        deltaChunk({ content: 'a' }, null, 0),
        deltaChunk({ content: 'b' }, null, 1),
        deltaChunk({}, 'stop', 1),
        deltaChunk({}, 'length', 0),
        chunk({ choices: [], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } }),
      ),
    );
    await recording.done;
    expect(recording.completed).toBe(true);
    expect(recording.values).toHaveLength(5);
  });

  test('without [DONE], one unfinished choice of two is a truncation', async () => {
    const recording = run(dataFrames(deltaChunk({ content: 'a' }, null, 0), deltaChunk({ content: 'b' }, 'stop', 1)));
    await recording.done;
    expect((recording.error as StreamTruncatedError<ChoiceStreamProgress>).partial.unfinishedChoices).toEqual([0]);
  });

  test('without [DONE], a choice counts as started from its first delta, even after a chunk of it without one', async () => {
    const recording = run(
      dataFrames(
        chunk({ choices: [{ index: 0, finish_reason: null }] }),
        deltaChunk({ content: 'a' }, null, 0),
        deltaChunk({ content: 'b' }, null, 1),
        deltaChunk({}, 'stop', 1),
      ),
    );
    await recording.done;
    expect(recording.values).toHaveLength(4);
    expect((recording.error as StreamTruncatedError<ChoiceStreamProgress>).partial).toEqual({ chunks: 4, unfinishedChoices: [0] });
  });

  test('data that is not JSON: StreamProtocolError carrying the raw data, after the chunks that arrived', async () => {
    const recording = run([...dataFrames(deltaChunk({ content: 'ok' })), { type: 'event', data: '{"choices": [tru' }]);
    await recording.done;
    const error = recording.error as StreamProtocolError;
    expect(error).toBeInstanceOf(StreamProtocolError);
    expect(error.problem).toBe('invalid-json');
    expect(error.data).toBe('{"choices": [tru');
    expect(error.message).toContain('{"choices": [tru');
    expect(recording.values).toHaveLength(1);
  });

  test.each([
    ['choices is not an array', { choices: {} }, 'choices'],
    ['content is a number', { choices: [{ index: 0, delta: { content: 5 } }] }, 'choices.0.delta.content'],
    ['no choices at all', { id: 'x', object: 'chat.completion.chunk' }, 'choices'],
    ['choice index is fractional', { choices: [{ index: 0.5, delta: { content: 'a' } }] }, 'choices.0.index'],
    ['choice index is negative', { choices: [{ index: -1, delta: { content: 'a' } }] }, 'choices.0.index'],
    ['tool call index is fractional', { choices: [{ index: 0, delta: { tool_calls: [{ index: 1.5 }] } }] }, 'choices.0.delta.tool_calls.0.index'],
    ['tool call index is negative', { choices: [{ index: 0, delta: { tool_calls: [{ index: -1 }] } }] }, 'choices.0.delta.tool_calls.0.index'],
  ])('a chunk whose %s: StreamProtocolError invalid-chunk', async (_what, json, path) => {
    const error = (await errorOf(of(...dataFrames(json)).pipe(chatChunks()))) as StreamProtocolError;
    expect(error).toBeInstanceOf(StreamProtocolError);
    expect(error.problem).toBe('invalid-chunk');
    expect(error.message).toContain(path);
    expect(error.data).toBe(JSON.stringify(json));
  });

  describe('in-stream errors in every shape become APIError', () => {
    test.each<[string, SseFrame, Partial<APIError>]>([
      [
        'data: {"error":{...}}',
        { type: 'event', data: '{"error":{"message":"The server had an error","type":"server_error","code":"internal","param":null}}' },
        { message: 'The server had an error', type: 'server_error', code: 'internal', param: null, status: undefined },
      ],
      [
        'data: {"error":"text"}',
        { type: 'event', data: '{"error":"Upstream timed out"}' },
        { message: 'Upstream timed out' },
      ],
      [
        'event: error with JSON data',
        { type: 'event', event: 'error', data: '{"message":"Overloaded","type":"overloaded_error"}' },
        { message: 'Overloaded', type: 'overloaded_error' },
      ],
      [
        'event: error with plain text data',
        { type: 'event', event: 'error', data: 'Internal server error' },
        { message: 'Internal server error', body: 'Internal server error' },
      ],
      [
        "llama.cpp's bare error field (decoded as event: error)",
        { type: 'event', event: 'error', data: '{"code":500,"message":"context size exceeded","type":"server_error"}' },
        { message: 'context size exceeded', code: 500, status: 500, type: 'server_error' },
      ],
      [
        'an error object beside choices, with a numeric code',
        {
          type: 'event',
          data: JSON.stringify(
            chunk({
              choices: [{ index: 0, delta: { content: '' }, finish_reason: 'error' }],
              error: { code: 502, message: 'Provider returned error', metadata: { provider_name: 'X' } },
            }),
          ),
        },
        { message: 'Provider returned error', code: 502, status: 502 },
      ],
      [
        'a flat {"object":"error"} (vLLM)',
        { type: 'event', data: '{"object":"error","message":"max_tokens is too large","type":"BadRequestError","param":null,"code":400}' },
        { message: 'max_tokens is too large', type: 'BadRequestError', code: 400, status: 400 },
      ],
    ])('%s', async (_shape, frame, expected) => {
      const recording = run([...dataFrames(deltaChunk({ content: 'before' })), frame]);
      await recording.done;
      const error = recording.error as APIError;
      expect(error).toBeInstanceOf(APIError);
      expect(error).toMatchObject({ ...expected, inStream: true });
      expect(recording.values).toHaveLength(1);
    });

    test('"error": null or "" beside choices is no error', async () => {
      const recording = run(
        dataFrames(
          chunk({ choices: [{ index: 0, delta: { content: 'x' }, finish_reason: 'stop' }], error: null }),
          chunk({ choices: [], error: '' }),
          '[DONE]',
        ),
      );
      await recording.done;
      expect(recording.completed).toBe(true);
      expect(recording.values).toHaveLength(2);
    });
  });
});

describe.each(TRANSPORTS)('chat stream errors from a real server over %s', (_name, transport) => {
  let server: TestServer;
  afterEach(() => server?.close());

  const serve = async (wire: string) => {
    server = await startServer((_req, res) => {
      sseHead(res);
      res.end(wire);
    });
    const client = buildClient({ baseURL: server.url, transport });
    return client.chat.completions.stream({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
  };

  test('non-JSON data', async () => {
    const recording = record(await serve(`${chatData('a')}data: <html>oops</html>\n\n`));
    await recording.done;
    expect(recording.values).toHaveLength(1);
    expect(recording.error).toBeInstanceOf(StreamProtocolError);
    expect((recording.error as StreamProtocolError).data).toBe('<html>oops</html>');
  });

  test.each([
    ['data: {"error":…}', 'data: {"error":{"message":"boom","type":"server_error"}}\n\n'],
    ['event: error', 'event: error\ndata: {"message":"boom"}\n\n'],
    ["llama.cpp's bare error line", 'error: {"code":500,"message":"boom","type":"server_error"}\n\n'],
    ['error beside choices', `data: {"choices":[{"index":0,"delta":{},"finish_reason":"error"}],"error":{"code":502,"message":"boom"}}\n\n`],
    ['flat object error', 'data: {"object":"error","message":"boom","code":400}\n\n'],
  ])('%s', async (_shape, errorWire) => {
    const recording = record(await serve(`${chatData('a')}${errorWire}data: [DONE]\n\n`));
    await recording.done;
    expect(recording.error).toBeInstanceOf(APIError);
    expect((recording.error as APIError).message).toBe('boom');
    expect((recording.error as APIError).inStream).toBe(true);
    expect(recording.values).toHaveLength(1);
  });

  test('a server that ends the stream early', async () => {
    const recording = record(await serve(`${chatData('a')}${chatData('b')}`));
    await recording.done;
    expect(recording.error).toBeInstanceOf(StreamTruncatedError);
    expect(recording.values).toHaveLength(2);
  });
});
