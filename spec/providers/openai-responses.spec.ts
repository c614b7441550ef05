/*
 * OpenAI's Responses API, as its streaming reference describes the stream:
 * `event: <type>` + `data: <event>` frames with a `sequence_number` (absent in
 * older streams), the lifecycle events, item/part/delta events, and a terminal
 * `response.completed` / `response.incomplete` / `response.failed` after which
 * the server closes the stream without `[DONE]`. Errors arrive as an `error`
 * event.
 */
import { APIError, StreamTruncatedError, accumulateResponse, type Response } from '../../src/index.node';
import { sseHead, startServer, type TestServer } from '../helpers/server';
import { record } from '../helpers/streams';
import {
  API_KEY,
  clientFor,
  expectFaithfulFrames,
  expectNoApiKey,
  functionCallEvents,
  messageEvents,
  reasoningEvents,
  responseObject,
  responseStream,
  responsesWire,
  runResponses,
  serveStream,
  wire,
} from './fixtures';

let server: TestServer;
afterEach(() => server?.close());

const message = messageEvents(0, 'msg_67ccd3acc8d48190a77525dc6de64b4104becb25c95c1e87', ['Under', ' the', ' sea.']);
const textEvents = responseStream([message]);
const textParts = responsesWire(textEvents);

describe('OpenAI Responses API', () => {
  test('a text answer: frames, events, text deltas and the completed response', async () => {
    server = await serveStream(textParts);
    const run = await runResponses(clientFor(server), server, { input: 'Tell me a one-line story.' });

    expectFaithfulFrames(run.frames, textParts);
    expect(run.requests[1].url).toBe('/v1/responses');
    expect(run.requests[1].headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(JSON.parse(run.requests[1].body)).toEqual({ model: 'test-model', input: 'Tell me a one-line story.', stream: true });
    expect(run.events.completed).toBe(true);
    expect(run.events.values).toEqual(textEvents);
    expect(run.text).toBe('Under the sea.');
    expect(run.snapshots.values).toHaveLength(textEvents.length);
    expect(run.final).toEqual(textEvents.at(-1)?.response);
    expect(run.final).toMatchObject({ status: 'completed', usage: { total_tokens: 123 }, output: [message.item] });
  });

  test('reasoning summary, function call and events of types openai-rx does not know', async () => {
    const reasoning = reasoningEvents(0, 'rs_1', [['**Weather**', ' lookup needed.']]);
    const call = functionCallEvents(1, 'fc_1', 'call_wx', 'get_weather', ['{"location":', '"Oslo"}']);
    const events = responseStream([reasoning, call]);
    const webSearch = { type: 'response.web_search_call.in_progress', output_index: 2, item_id: 'ws_1', sequence_number: 90 };
    events.splice(3, 0, webSearch);
    server = await serveStream(responsesWire(events));
    const run = await runResponses(clientFor(server), server);

    expect(run.events.completed).toBe(true);
    expect(run.events.values).toContainEqual(webSearch);
    expect(run.text).toBe('');
    expect(run.final?.output).toEqual([reasoning.item, call.item]);
    const argsDelta = events.findIndex((event) => event.type === 'response.function_call_arguments.delta');
    expect(run.snapshots.values[argsDelta].output[1]).toMatchObject({ call_id: 'call_wx', arguments: '{"location":' });
  });

  test('an older stream without sequence_number parses the same', async () => {
    const events = responseStream([message], {}, false);
    server = await serveStream(responsesWire(events));
    const run = await runResponses(clientFor(server), server);

    expect(run.events.completed).toBe(true);
    expect(run.text).toBe('Under the sea.');
    expect(run.final).toEqual(events.at(-1)?.response);
  });

  test('the stream completes at response.completed even if the server keeps the connection open', async () => {
    server = await startServer((_req, res) => {
      sseHead(res);
      for (const part of textParts) res.write(part);
    });
    const events = record(clientFor(server).responses.stream({ model: 'test-model', input: 'Hi' }).pipe(accumulateResponse()));
    await events.done;

    expect(events.completed).toBe(true);
    expect(events.values.at(-1)).toEqual(textEvents.at(-1)?.response);
    await server.waitForClosedSockets(1, 5000);
  });

  test('[DONE] after the terminal event is accepted', async () => {
    const parts = [...textParts, wire.done];
    server = await serveStream(parts);
    const run = await runResponses(clientFor(server), server);

    expectFaithfulFrames(run.frames, parts);
    expect(run.events.completed).toBe(true);
    expect(run.final).toEqual(textEvents.at(-1)?.response);
  });

  test('response.incomplete completes normally with the incomplete response', async () => {
    const events = responseStream([message], {
      type: 'response.incomplete',
      response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } },
    });
    server = await serveStream(responsesWire(events));
    const run = await runResponses(clientFor(server), server, { max_output_tokens: 16 });

    expect(run.events.completed).toBe(true);
    expect(run.text).toBe('Under the sea.');
    expect(run.final).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
  });

  test.each([
    ['flat', { type: 'error', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests', param: null, sequence_number: 5 }],
    [
      'nested',
      { type: 'error', sequence_number: 5, error: { type: 'tokens', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests', param: null } },
    ],
  ])('a %s `error` event with no [DONE] is an APIError', async (_shape, error) => {
    const parts = [...textParts.slice(0, 5), wire.event('error', error)];
    server = await serveStream(parts);
    const run = await runResponses(clientFor(server), server);

    expectFaithfulFrames(run.frames, parts);
    expect(run.text).toBe('Under');
    expect(run.events.error).toBeInstanceOf(APIError);
    expect(run.events.error).toMatchObject({ code: 'rate_limit_exceeded', message: 'Rate limit reached for requests', inStream: true });
    expect(run.snapshots.error).toBe(run.events.error);
    expectNoApiKey(run.events.error);
  });

  test('response.failed is an APIError with the response’s error', async () => {
    const failed = {
      type: 'response.failed',
      sequence_number: 5,
      response: responseObject({ status: 'failed', error: { code: 'server_error', message: 'The model failed to generate a response.' } }),
    };
    server = await serveStream([...textParts.slice(0, 5), wire.event('response.failed', failed)]);
    const run = await runResponses(clientFor(server), server);

    expect(run.events.values).toHaveLength(5);
    const error = run.events.error as APIError;
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ code: 'server_error', message: 'The model failed to generate a response.', inStream: true, body: failed });
    expect(run.snapshots.error).toBe(error);
  });

  test('a connection that closes before the terminal event is truncated, with the partial response', async () => {
    const cut = textEvents.findIndex((event) => event.type === 'response.output_text.done');
    server = await serveStream(textParts.slice(0, cut));
    const run = await runResponses(clientFor(server), server);

    expect(run.text).toBe('Under the sea.');
    expect(run.events.error).toBeInstanceOf(StreamTruncatedError);
    const truncated = run.snapshots.error as StreamTruncatedError<Response>;
    expect(truncated).toBeInstanceOf(StreamTruncatedError);
    expect(truncated.partial).toMatchObject({
      id: (textEvents[0].response as { id: string }).id,
      status: 'in_progress',
      output: [{ type: 'message', content: [{ type: 'output_text', text: 'Under the sea.' }] }],
    });
  });
});
