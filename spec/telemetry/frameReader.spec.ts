import { chatChunk, chatFrames, doneFrame, responseFrames, responseObject, responseUsage, sseEvent } from '../../src/testing/index.node';
import type { SseFrame } from '../../src/index.node';
import { createFrameReader } from '../../src/telemetry/frameReader';
import type { ResponseInfo, TelemetryEndpoint } from '../../src/telemetry/types';

// What telemetry reads from raw frames, and that it parses only the few frames that carry something.

interface Read {
  chunks: number;
  responses: ResponseInfo[];
  errors: string[];
}

function read(endpoint: TelemetryEndpoint, frames: readonly SseFrame[]): Read {
  const result: Read = { chunks: 0, responses: [], errors: [] };
  const reader = createFrameReader(endpoint, {
    chunk: () => result.chunks++,
    response: (info) => result.responses.push(info),
    inStreamError: (errorType) => result.errors.push(errorType),
  });
  frames.forEach(reader);
  return result;
}

const merged = (responses: ResponseInfo[]): ResponseInfo => Object.assign({}, ...responses) as ResponseInfo;

afterEach(() => jest.restoreAllMocks());

describe('chat completions', () => {
  test('every data event but [DONE] is a chunk; only the first frame and the finishing one are parsed', () => {
    const frames = [...chatFrames({ id: 'chatcmpl-1', model: 'gpt-4o-mini', content: ['a', 'b', 'c', 'd', 'e', 'f'] })];
    const parse = jest.spyOn(JSON, 'parse');

    const result = read('chat/completions', frames);

    expect(result.chunks).toBe(frames.length - 1);
    expect(parse).toHaveBeenCalledTimes(2);
    expect(merged(result.responses)).toEqual({ id: 'chatcmpl-1', model: 'gpt-4o-mini', finishReasons: ['stop'] });
  });

  test('`"usage": null` on every chunk is not parsed; the usage chunk is', () => {
    const withNullUsage = (content: string) => sseEvent({ ...chatChunk(content), usage: null });
    const frames = [withNullUsage('a'), withNullUsage('b'), withNullUsage('c'), sseEvent({ ...chatChunk({}), choices: [], usage: { prompt_tokens: 5, completion_tokens: 3 } })];
    const parse = jest.spyOn(JSON, 'parse');

    const result = read('chat/completions', frames);

    expect(parse).toHaveBeenCalledTimes(2);
    expect(result.responses.at(-1)?.usage).toEqual({ inputTokens: 5, outputTokens: 3 });
  });

  test('choices finishing in different chunks: one reason each, in choice order', () => {
    const result = read('chat/completions', [
      sseEvent(chatChunk({ choice: 1, content: 'x' })),
      sseEvent(chatChunk({ choice: 1, finish: 'length' })),
      sseEvent(chatChunk({ choice: 0, finish: 'tool_calls' })),
    ]);

    expect(result.responses.at(-1)?.finishReasons).toEqual(['tool_calls', 'length']);
  });

  test('hostile frames: a huge choice index, a reason that is no string, data that is no JSON; nothing throws', () => {
    const result = read('chat/completions', [
      sseEvent('{"choices":[{"index":'),
      sseEvent({ choices: [{ index: 1e12, finish_reason: 'stop' }, { index: 0, finish_reason: 42 }, { finish_reason: 'x'.repeat(10_000) }] }),
    ]);

    expect(result.responses.at(-1)?.finishReasons).toEqual(['x'.repeat(256)]);
    expect(result.chunks).toBe(2);
  });

  test('an error event is no chunk; its error.type is reported', () => {
    const result = read('chat/completions', [sseEvent(chatChunk('a')), sseEvent({ error: { message: 'boom', type: 'server_error', code: null } }), doneFrame()]);

    expect(result.chunks).toBe(1);
    expect(result.errors).toEqual(['APIError']);
  });
});

describe('Responses', () => {
  test('only the *.delta events are chunks; response.created gives id and model, response.completed the rest', () => {
    const frames = responseFrames({ id: 'resp_1', model: 'gpt-4o-mini', text: ['Hel', 'lo'], usage: responseUsage(4, 2) });

    const result = read('responses', frames);

    expect(result.chunks).toBe(2);
    expect(result.responses[0]).toEqual({ id: 'resp_1', model: 'gpt-4o-mini' });
    expect(merged(result.responses)).toMatchObject({ finishReasons: ['stop'], usage: { inputTokens: 4, outputTokens: 2, cachedInputTokens: 0, reasoningTokens: 0 } });
  });

  test('without `event:` lines the type in the data decides', () => {
    const frames = responseFrames({ text: ['a', 'b', 'c'] }).map(({ data }): SseFrame => ({ type: 'event', data }));

    const result = read('responses', frames);

    expect(result.chunks).toBe(3);
    expect(merged(result.responses).finishReasons).toEqual(['stop']);
  });

  test.each([
    ['completed with a function call', { ...responseObject({ functionCalls: [{ name: 'f', arguments: '{}' }] }) }, 'tool_calls'],
    ['incomplete at max_output_tokens', { ...responseObject({}), status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } }, 'length'],
    ['incomplete by the content filter', { ...responseObject({}), status: 'incomplete', incomplete_details: { reason: 'content_filter' } }, 'content_filter'],
  ])('%s', (_name, response, reason) => {
    const type = response.status === 'incomplete' ? 'response.incomplete' : 'response.completed';

    const result = read('responses', [sseEvent({ type, sequence_number: 1, response }, { event: type })]);

    expect(merged(result.responses).finishReasons).toEqual([reason]);
  });

  test('response.failed is reported as an error', () => {
    const failed = { type: 'response.failed', response: { status: 'failed', error: { code: 'server_error', message: 'no' } } };

    expect(read('responses', [sseEvent(failed, { event: 'response.failed' })]).errors).toEqual(['server_error']);
  });
});
