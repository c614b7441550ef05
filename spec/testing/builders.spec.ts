import { from, lastValueFrom, toArray } from 'rxjs';
import {
  accumulateChatCompletion,
  accumulateCompletion,
  accumulateResponse,
  chatChunks,
  completionChunks,
  completionTextDeltas,
  contentDeltas,
  createClient,
  outputTextDeltas,
  responseEvents,
  toolCallDeltas,
  type ChatCompletionChunk,
} from '../../src/index.node';
import {
  byteChunks,
  chatChunk,
  chatCompletion,
  chatFrames,
  completion,
  completionFrames,
  responseFrames,
  responseObject,
  responseUsage,
  scriptedTransport,
  splitTokens,
  sseComment,
  sseEvent,
  sseText,
} from '../../src/testing';

describe('chat builders', () => {
  test('chatFrames parse through chatChunks into the completion chatCompletion builds', async () => {
    const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };
    const final = await lastValueFrom(from(chatFrames({ content: ['Hel', 'lo'], usage })).pipe(chatChunks(), accumulateChatCompletion()));
    const expected = chatCompletion({ content: 'Hello', usage });
    expect(final).toMatchObject({ id: expected.id, model: expected.model, created: expected.created, usage });
    expect(final.choices[0]).toMatchObject({ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Hello' } });
  });

  test('tool calls stream as a head fragment and argument fragments', async () => {
    const frames = chatFrames({ toolCalls: [{ id: 'call_1', name: 'search', arguments: ['{"q":', '"rx"}'] }] });
    const fragments = await lastValueFrom(from(frames).pipe(chatChunks(), toolCallDeltas(), toArray()));
    expect(fragments).toEqual([
      { index: 0, id: 'call_1', name: 'search', arguments: '' },
      { index: 0, arguments: '{"q":' },
      { index: 0, arguments: '"rx"}' },
    ]);
    const final = await lastValueFrom(from(frames).pipe(chatChunks(), accumulateChatCompletion()));
    expect(final.choices[0].message.tool_calls).toEqual(chatCompletion({ toolCalls: [{ id: 'call_1', name: 'search', arguments: '{"q":"rx"}' }] }).choices[0].message.tool_calls);
    expect(final.choices[0].finish_reason).toBe('tool_calls');
  });

  test('a built chunk is a ChatCompletionChunk as the library types it', () => {
    const chunk: ChatCompletionChunk = chatChunk({ content: 'x', reasoning: 'y', choice: 1, finish: 'stop', toolCalls: [{ name: 'f' }] });
    expect(chunk.choices[0]).toEqual({
      index: 1,
      delta: { content: 'x', reasoning_content: 'y', tool_calls: [{ index: 0, function: { name: 'f', arguments: '' } }] },
      logprobs: null,
      finish_reason: 'stop',
    });
  });
});

test('legacy completion builders parse through completionChunks', async () => {
  const usage = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 };
  const frames = completionFrames({ text: ['Hel', 'lo'], usage });
  expect(await lastValueFrom(from(frames).pipe(completionChunks(), completionTextDeltas(), toArray()))).toEqual(['Hel', 'lo']);
  const final = await lastValueFrom(from(frames).pipe(completionChunks(), accumulateCompletion()));
  const expected = completion({ text: 'Hello', usage });
  expect(final).toMatchObject({ id: expected.id, usage, choices: [{ index: 0, text: 'Hello', finish_reason: 'stop' }] });
});

test('Responses builders parse through responseEvents, and the accumulated response is responseObject', async () => {
  const usage = responseUsage(4, 2);
  const frames = responseFrames({ text: ['Hel', 'lo'], functionCalls: [{ name: 'f', arguments: ['{}'] }], usage });
  expect(frames.every((frame) => frame.data !== '[DONE]')).toBe(true);
  expect(await lastValueFrom(from(frames).pipe(responseEvents(), outputTextDeltas(), toArray()))).toEqual(['Hel', 'lo']);
  const final = await lastValueFrom(from(frames).pipe(responseEvents(), accumulateResponse()));
  expect(final).toEqual(responseObject({ text: 'Hello', functionCalls: [{ name: 'f', arguments: '{}' }], usage }));
});

describe('SSE text', () => {
  test('sseText writes frames as a server does; comments and event names included', () => {
    expect(sseText([sseComment('ping'), sseEvent({ a: 1 }, { event: 'x', id: '7' }), sseEvent('[DONE]')])).toBe(
      ': ping\n\nevent: x\nid: 7\ndata: {"a":1}\n\ndata: [DONE]\n\n',
    );
  });

  test('byteChunks cuts through multi-byte characters, and the client still reads the same deltas', async () => {
    const deltas = ['Grüße', ' 😀', ' 日本'];
    const chunks = byteChunks(sseText(chatFrames(deltas)), 3);
    expect(chunks.slice(0, -1).every((chunk) => chunk.byteLength === 3)).toBe(true);
    expect(chunks.some((chunk) => !isWholeUtf8(chunk))).toBe(true);
    const client = createClient({ baseURL: 'https://api.test/v1', transport: scriptedTransport({ body: chunks }) });
    const received = await lastValueFrom(client.chat.completions.stream({ model: 'm', messages: [] }).pipe(contentDeltas(), toArray()));
    expect(received).toEqual(deltas);
  });

  test('byteChunks rejects a size that is not a positive integer', () => {
    expect(() => byteChunks('abc', 0)).toThrow(RangeError);
    expect(() => byteChunks('abc', 1.5)).toThrow('byteChunks: size must be a positive integer, got 1.5');
  });
});

test('splitTokens cuts token-sized pieces that join back to the text', () => {
  expect(splitTokens('Hello, wonderful world 12345!')).toEqual(['Hello', ',', ' wonde', 'rful', ' world', ' 123', '45', '!']);
  for (const text of ['', '  leading and trailing  ', 'ünïcödé and emoji 👍🏽 mixed\nwith lines']) {
    expect(splitTokens(text).join('')).toBe(text);
  }
});

function isWholeUtf8(chunk: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(chunk);
    return true;
  } catch {
    return false;
  }
}
