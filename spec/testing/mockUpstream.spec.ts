import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { lastValueFrom, tap, toArray, type Observable } from 'rxjs';
import * as z from 'zod';
import {
  accumulateChatCompletion,
  accumulateCompletion,
  accumulateResponse,
  APIConnectionError,
  APIError,
  contentDeltas,
  createClient,
  StreamTimeoutError,
  zodResponseFormat,
  zodTextFormat,
  type OpenAIRxClient,
  type SseFrame,
} from '../../src/index.node';
import { splitTokens, startMockUpstream, type MockUpstream } from '../../src/testing/index.node';
import { record, type Recording } from '../helpers/streams';

let upstream: MockUpstream;
let client: OpenAIRxClient;

afterEach(() => upstream?.close());

async function start(options: Parameters<typeof startMockUpstream>[0] = {}) {
  upstream = await startMockUpstream({ tokenDelayMs: 0, ...options });
  client = createClient({ baseURL: upstream.baseURL, apiKey: 'sk-mock-secret' });
}

const ask = (content: string, extra: Record<string, unknown> = {}) => ({
  model: 'mock-model',
  messages: [{ role: 'user' as const, content }],
  ...extra,
});

async function collect<T>(source: Observable<T>): Promise<Recording<T>> {
  const recording = record(source);
  await recording.done;
  return recording;
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(upstream.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, json: (await response.json()) as Record<string, any> };
}

const eventData = (frames: SseFrame[]) =>
  frames.flatMap((frame) => (frame.type === 'event' && frame.data !== '[DONE]' ? [JSON.parse(frame.data)] : []));

describe('startMockUpstream', () => {
  test('streams a deterministic chat answer derived from the prompt as token deltas, with usage when asked', async () => {
    await start();
    const params = ask('What is RxJS?', { stream_options: { include_usage: true } });
    const first = await lastValueFrom(client.chat.completions.stream(params).pipe(contentDeltas(), toArray()));
    const second = await lastValueFrom(client.chat.completions.stream(params).pipe(accumulateChatCompletion()));

    const text = first.join('');
    expect(text).toMatch(/^Mock answer to "What is RxJS\?"\. \S/);
    expect(first).toEqual(splitTokens(text));
    expect(first.length).toBeGreaterThan(10);
    expect(second.choices[0].message.content).toBe(text);
    expect(second.choices[0].finish_reason).toBe('stop');
    expect(second.id).toBe('chatcmpl-mock-2');
    expect(second.model).toBe('mock-model');
    const promptTokens = splitTokens('What is RxJS?').length;
    expect(second.usage).toEqual({ prompt_tokens: promptTokens, completion_tokens: first.length, total_tokens: promptTokens + first.length });
    expect(upstream.requests.map((r) => [r.path, r.state, r.status, r.stream, r.tokensSent])).toEqual([
      ['/v1/chat/completions', 'completed', 200, true, first.length],
      ['/v1/chat/completions', 'completed', 200, true, first.length],
    ]);
  });

  test('ends the chat stream with [DONE] after the finish chunk, and different prompts get different answers', async () => {
    await start();
    const frames = await lastValueFrom(client.chat.completions.events(ask('one')).pipe(toArray()));
    const other = await lastValueFrom(client.chat.completions.stream(ask('two')).pipe(contentDeltas(), toArray()));
    const last = frames.at(-1);
    expect(last).toEqual({ type: 'event', data: '[DONE]' });
    const chunks = eventData(frames);
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.at(-1).choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    const text = chunks.map((chunk) => chunk.choices[0].delta.content ?? '').join('');
    expect(text.startsWith('Mock answer to "one".')).toBe(true);
    expect(other.join('').startsWith('Mock answer to "two".')).toBe(true);
  });

  test('answers exactly the text or the number of tokens a directive or the behavior option asks for', async () => {
    await start({ behavior: { text: 'Server-wide answer.' } });
    const exact = await lastValueFrom(client.chat.completions.stream(ask('x [[mock:text=Hello there, world]]')).pipe(contentDeltas(), toArray()));
    const counted = await lastValueFrom(client.chat.completions.stream(ask('y [[mock:tokens=7]]')).pipe(contentDeltas(), toArray()));
    const fromOptions = await lastValueFrom(client.chat.completions.stream(ask('z')).pipe(contentDeltas(), toArray()));
    expect(exact).toEqual(['Hello', ' there', ',', ' world']);
    expect(counted).toHaveLength(7);
    expect(fromOptions.join('')).toBe('Server-wide answer.');
  });

  test('[[mock:delay=MS]] sets the pause between tokens for one request', async () => {
    await start({ tokenDelayMs: 60_000 });
    const quick = await lastValueFrom(client.chat.completions.stream(ask('Hi [[mock:delay=0]] [[mock:tokens=5]]')).pipe(contentDeltas(), toArray()));
    expect(quick).toHaveLength(5);
  });

  test('cuts the answer at max_tokens with finish_reason length', async () => {
    await start();
    const final = await lastValueFrom(
      client.chat.completions.stream(ask('long [[mock:tokens=30]]', { max_completion_tokens: 4 })).pipe(accumulateChatCompletion()),
    );
    expect(splitTokens(final.choices[0].message.content ?? '')).toHaveLength(4);
    expect(final.choices[0].finish_reason).toBe('length');
  });

  test('calls the offered tool with arguments from its schema, then answers the tool result with text', async () => {
    await start();
    const tools = [
      { type: 'function' as const, function: { name: 'search', parameters: { type: 'object', properties: { q: { type: 'string' } } } } },
      {
        type: 'function' as const,
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' }, unit: { enum: ['C', 'F'] } } },
        },
      },
    ];
    const call = await lastValueFrom(
      client.chat.completions
        .stream(ask('Paris', { tools, tool_choice: { type: 'function', function: { name: 'get_weather' } } }))
        .pipe(accumulateChatCompletion()),
    );
    const message = call.choices[0].message;
    expect(call.choices[0].finish_reason).toBe('tool_calls');
    expect(message.content).toBeNull();
    expect(message.tool_calls).toEqual([
      { id: 'call_mock_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","days":1,"unit":"C"}' } },
    ]);
    expect(upstream.requests[0].tokensSent).toBe(splitTokens('{"city":"Paris","days":1,"unit":"C"}').length);

    const followUp = await lastValueFrom(
      client.chat.completions
        .stream({
          model: 'm',
          tools,
          messages: [
            { role: 'user', content: 'Paris' },
            { role: 'assistant', content: null, tool_calls: message.tool_calls },
            { role: 'tool', tool_call_id: 'call_mock_1', content: '21 degrees' },
          ],
        })
        .pipe(accumulateChatCompletion()),
    );
    expect(followUp.choices[0].message.content).toMatch(/^The tool returned 21 degrees\./);
    expect(followUp.choices[0].finish_reason).toBe('stop');
  });

  test('answers a json_schema response_format with JSON that fits the schema, in small deltas (chat and Responses)', async () => {
    await start();
    const Person = z.object({ name: z.string(), age: z.number().int(), role: z.enum(['admin', 'user']), tags: z.array(z.string()), manager: z.object({ name: z.string() }).nullable() });
    const deltas = await lastValueFrom(
      client.chat.completions.stream(ask('Describe Ada Lovelace', { response_format: zodResponseFormat(Person, 'person') })).pipe(contentDeltas(), toArray()),
    );
    const expected = { name: 'Describe', age: 1, role: 'admin', tags: ['Ada', 'Lovelace'], manager: { name: 'Describe' } };
    expect(Person.parse(JSON.parse(deltas.join('')))).toEqual(expected);
    expect(deltas.length).toBeGreaterThan(20);
    expect(Math.max(...deltas.map((delta) => delta.length))).toBeLessThanOrEqual(8);

    const response = await lastValueFrom(
      client.responses.stream({ model: 'm', input: 'Describe Ada Lovelace', text: { format: zodTextFormat(Person, 'person') } }).pipe(accumulateResponse()),
    );
    expect(JSON.parse(response.output[0].content?.[0].text ?? '')).toEqual(expected);
  });

  test('[[mock:parallel]]: two calls in one turn, each one’s arguments split across chunks; not with parallel_tool_calls false', async () => {
    await start();
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const chunks = await lastValueFrom(client.chat.completions.stream(ask('Paris and Oslo [[mock:parallel]]', { tools })).pipe(toArray()));
    const fragments = chunks.flatMap((chunk) => chunk.choices[0]?.delta?.tool_calls ?? []);
    expect(fragments.filter((fragment) => fragment.id).map((fragment) => [fragment.index, fragment.id])).toEqual([
      [0, 'call_mock_1'],
      [1, 'call_mock_1_2'],
    ]);
    const args = (index: number) => fragments.filter((fragment) => fragment.index === index && fragment.function?.arguments).map((fragment) => fragment.function?.arguments);
    expect(args(0).length).toBeGreaterThan(2);
    expect(args(0).join('')).toBe('{"city":"Paris"}');
    expect(args(1).join('')).toBe('{"city":"Oslo"}');

    const weatherAndTime = [...tools, { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const both = await lastValueFrom(client.chat.completions.stream(ask('Paris [[mock:parallel]]', { tools: weatherAndTime })).pipe(accumulateChatCompletion()));
    expect(both.choices[0].message.tool_calls?.map((call) => [call.function?.name, call.function?.arguments])).toEqual([
      ['get_weather', '{"city":"Paris"}'],
      ['get_time', '{"city":"Paris"}'],
    ]);

    const single = await lastValueFrom(
      client.chat.completions.stream(ask('Paris and Oslo [[mock:parallel]]', { tools, parallel_tool_calls: false })).pipe(accumulateChatCompletion()),
    );
    expect(single.choices[0].message.tool_calls).toHaveLength(1);
  });

  test('[[mock:tool-rounds=N]]: N turns of tool calls before the text answer, which names every result of the last turn', async () => {
    await start();
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const call = (id: string) => ({ id, type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
    const messages = (rounds: number) => [
      { role: 'user' as const, content: 'Paris [[mock:tool-rounds=2]]' },
      ...Array.from({ length: rounds }, (_, round) => [
        { role: 'assistant' as const, content: null, tool_calls: [call(`a${round}`), call(`b${round}`)] },
        { role: 'tool' as const, tool_call_id: `a${round}`, content: `rain ${round}` },
        { role: 'tool' as const, tool_call_id: `b${round}`, content: `sun ${round}` },
      ]).flat(),
    ];
    const answer = (rounds: number) => lastValueFrom(client.chat.completions.stream({ model: 'm', tools, messages: messages(rounds) }).pipe(accumulateChatCompletion()));
    expect((await answer(1)).choices[0].finish_reason).toBe('tool_calls');
    const last = await answer(2);
    expect(last.choices[0].finish_reason).toBe('stop');
    expect(last.choices[0].message.content).toMatch(/^The tools returned rain 1 and sun 1\./);
  });

  test('streams legacy completions and the Responses event sequence (which has no [DONE])', async () => {
    await start();
    const legacy = await lastValueFrom(
      client.sse('/completions', { model: 'm', prompt: 'Say hi [[mock:tokens=3]]', stream: true, stream_options: { include_usage: true } }).pipe(toArray()),
    );
    expect(legacy.at(-1)).toEqual({ type: 'event', data: '[DONE]' });
    const legacyChunks = eventData(legacy);
    expect(legacyChunks.map((chunk) => chunk.choices[0]?.text ?? null).join('|')).toBe(
      `${splitTokens('Mock answer to "Say hi".').slice(0, 3).join('|')}||`,
    );
    expect(legacyChunks.at(-2).choices[0].finish_reason).toBe('stop');
    expect(legacyChunks.at(-1).usage).toMatchObject({ completion_tokens: 3 });

    const frames = await lastValueFrom(client.sse('/responses', { model: 'm', input: 'Hi [[mock:tokens=2]]', stream: true }).pipe(toArray()));
    expect(frames.map((frame) => (frame.type === 'event' ? frame.event : frame.type))).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const events = eventData(frames);
    expect(events.map((event) => event.sequence_number)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(events.map((event) => event.type)).toEqual(frames.map((frame) => (frame.type === 'event' ? frame.event : '')));
    const completed = events.at(-1).response;
    expect(completed).toMatchObject({ id: 'resp_mock_2', status: 'completed', usage: { output_tokens: 2 } });
    expect(completed.output[0].content[0].text).toBe(events[4].delta + events[5].delta);
  });

  test("the library's own Responses and legacy parsers read the mock's streams", async () => {
    await start({ behavior: { text: 'Hello there.' } });
    const response = await lastValueFrom(client.responses.stream({ model: 'm', input: 'Hi' }).pipe(accumulateResponse()));
    expect(response).toMatchObject({ id: 'resp_mock_1', status: 'completed', output: [{ type: 'message', content: [{ type: 'output_text', text: 'Hello there.' }] }] });
    const legacy = await lastValueFrom(client.completions.stream({ model: 'm', prompt: 'Hi' }).pipe(accumulateCompletion()));
    expect(legacy.choices[0]).toMatchObject({ text: 'Hello there.', finish_reason: 'stop' });
  });

  test('streams a Responses function call when tools are offered', async () => {
    await start();
    const frames = await lastValueFrom(
      client
        .sse('/responses', {
          model: 'm',
          input: [{ role: 'user', content: [{ type: 'input_text', text: 'Oslo' }] }],
          tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
          stream: true,
        })
        .pipe(toArray()),
    );
    const events = eventData(frames);
    const args = events.filter((event) => event.type === 'response.function_call_arguments.delta').map((event) => event.delta);
    expect(args.join('')).toBe('{"city":"Oslo"}');
    expect(events.at(-1).response.output).toEqual([
      { id: 'fc_mock_1_0', type: 'function_call', status: 'completed', call_id: 'call_mock_1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
    ]);
  });

  test('answers without streaming on every endpoint, after the simulated generation time', async () => {
    await start({ tokenDelayMs: 1 });
    const chat = await post('/v1/chat/completions', ask('Hi [[mock:text=Hello!]]'));
    expect(chat.status).toBe(200);
    expect(chat.json).toMatchObject({
      id: 'chatcmpl-mock-1',
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello!' }, finish_reason: 'stop' }],
      usage: { completion_tokens: 2 },
    });
    const legacy = await post('/v1/completions', { model: 'm', prompt: ['Hi [[mock:text=Yo]]'] });
    expect(legacy.json).toMatchObject({ object: 'text_completion', choices: [{ text: 'Yo', finish_reason: 'stop' }] });
    const responses = await post('/v1/responses', { model: 'm', input: 'Hi [[mock:text=Hey]]' });
    expect(responses.json).toMatchObject({ object: 'response', status: 'completed', output: [{ type: 'message', content: [{ text: 'Hey' }] }] });
    const models = await fetch(`${upstream.baseURL}/models`).then((response) => response.json());
    expect(models.data[0].id).toBe('mock-model');
    expect(upstream.requests.map((r) => r.stream)).toEqual([false, false, false, false]);
  });

  test('answers [[mock:error=429]] with an OpenAI error body and the retry headers asked for', async () => {
    await start();
    const { error } = await collect(
      client.chat.completions.stream(ask('Hi [[mock:error=429]] [[mock:retry-after=2]] [[mock:should-retry=true]]')),
    );
    expect(error).toBeInstanceOf(APIError);
    const apiError = error as APIError;
    expect(apiError.status).toBe(429);
    expect(apiError.code).toBe('rate_limit_exceeded');
    expect(apiError.retryAfterMs).toBe(2000);
    expect(apiError.headers['x-should-retry']).toBe('true');
    expect(apiError.requestId).toBe('req_mock_1');

    const { error: server } = await collect(client.chat.completions.stream(ask('Hi [[mock:error=503]] [[mock:retry-after-ms=1500]]')));
    expect(server).toMatchObject({ status: 503, type: 'server_error', retryAfterMs: 1500 });
    expect(upstream.requests.map((r) => [r.status, r.state])).toEqual([
      [429, 'completed'],
      [503, 'completed'],
    ]);
  });

  test('[[mock:stall]] keeps the socket open after the headers until the client gives up', async () => {
    await start();
    const { values, error } = await collect(
      client.chat.completions.stream(ask('Hi [[mock:stall]]'), { timeout: { firstEventMs: 100 } }).pipe(contentDeltas()),
    );
    expect(values).toEqual([]);
    expect(error).toBeInstanceOf(StreamTimeoutError);
    expect((error as StreamTimeoutError).phase).toBe('first-event');
    await upstream.waitFor(() => upstream.requests[0].state === 'aborted' && upstream.openConnections() === 0);
    expect(upstream.requests[0].status).toBe(200);
  });

  test('[[mock:stall=N]] stalls after N tokens, and [[mock:stall=headers]] never answers', async () => {
    await start();
    const idle = await collect(client.chat.completions.stream(ask('Hi [[mock:stall=2]]'), { timeout: { idleMs: 400 } }).pipe(contentDeltas()));
    expect(idle.values).toHaveLength(2);
    expect(idle.error).toMatchObject({ name: 'StreamTimeoutError', phase: 'idle' });

    const headers = await collect(client.chat.completions.stream(ask('Hi [[mock:stall=headers]]'), { timeout: { headersMs: 100 } }));
    expect(headers.error).toMatchObject({ name: 'StreamTimeoutError', phase: 'headers' });
    await upstream.waitFor(() => upstream.requests.every((r) => r.state === 'aborted'));
    expect(upstream.requests[1].status).toBeUndefined();
  });

  test('[[mock:cut=N]] destroys the socket after N tokens', async () => {
    await start();
    const { values, error } = await collect(client.chat.completions.stream(ask('Hi [[mock:cut=3]]')).pipe(contentDeltas()));
    expect(values).toHaveLength(3);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(upstream.requests[0]).toMatchObject({ state: 'cut', tokensSent: 3 });
  });

  test('[[mock:cut]] and [[mock:error-mid-stream]] without a count strike halfway through the answer', async () => {
    await start();
    const cut = await collect(client.chat.completions.stream(ask('a [[mock:tokens=10]] [[mock:cut]]')).pipe(contentDeltas()));
    expect(cut.values).toHaveLength(5);
    const failed = await collect(client.chat.completions.stream(ask('b [[mock:tokens=10]] [[mock:error-mid-stream]]')).pipe(contentDeltas()));
    expect(failed.values).toHaveLength(5);
    expect(failed.error).toBeInstanceOf(APIError);
    expect(failed.error).toMatchObject({ inStream: true, type: 'server_error' });
  });

  test('[[mock:error-mid-stream]] sends the endpoint\'s own in-stream error event', async () => {
    await start();
    const frames = await lastValueFrom(client.sse('/responses', { model: 'm', input: 'x [[mock:error-mid-stream=1]]', stream: true }).pipe(toArray()));
    const last = frames.at(-1);
    expect(last).toMatchObject({ type: 'event', event: 'error' });
    expect(JSON.parse((last as { data: string }).data)).toMatchObject({ type: 'error', code: 'server_error', sequence_number: 5 });
    expect(upstream.requests[0].state).toBe('completed');
  });

  test('[[mock:times=N]] applies the fault to the first N identical requests only', async () => {
    await start();
    const params = ask('Hi [[mock:error=503]] [[mock:times=2]]');
    const results = [];
    for (let attempt = 0; attempt < 3; attempt++) results.push(await collect(client.chat.completions.stream(params).pipe(contentDeltas())));
    expect(results.map((result) => (result.error as APIError | undefined)?.status)).toEqual([503, 503, undefined]);
    expect(results[2].values.length).toBeGreaterThan(0);
    expect(upstream.requests.map((r) => r.attempt)).toEqual([1, 2, 3]);
  });

  test('a behavior function sees each request, its prompt and attempt number', async () => {
    await start({ behavior: (req) => (req.attempt === 1 ? { error: 500 } : { text: `second try of ${req.prompt}` }) });
    const first = await collect(client.chat.completions.stream(ask('ping')));
    const second = await lastValueFrom(client.chat.completions.stream(ask('ping')).pipe(contentDeltas(), toArray()));
    expect(first.error).toMatchObject({ status: 500 });
    expect(second.join('')).toBe('second try of ping');
  });

  test('checks the API key only when configured, and never records it', async () => {
    await start({ apiKey: 'sk-right' });
    const { error } = await collect(client.chat.completions.stream(ask('hi')));
    expect(error).toMatchObject({ name: 'APIError', status: 401, code: 'invalid_api_key' });
    expect(JSON.stringify(error)).not.toContain('sk-mock-secret');
    const right = createClient({ baseURL: upstream.baseURL, apiKey: 'sk-right' });
    const text = await lastValueFrom(right.chat.completions.stream(ask('hi')).pipe(contentDeltas(), toArray()));
    expect(text.length).toBeGreaterThan(0);
    expect(upstream.requests.map((r) => r.headers.authorization)).toEqual(['Bearer [redacted]', 'Bearer [redacted]']);
    expect(JSON.stringify(upstream.requests)).not.toMatch(/sk-right|sk-mock-secret/);
  });

  test('rejects unknown directives, unknown paths and malformed bodies with OpenAI-shaped errors', async () => {
    await start();
    const directive = await post('/v1/chat/completions', ask('hi [[mock:explode]]'));
    expect(directive.status).toBe(400);
    expect(directive.json.error.message).toBe('Unknown mock directive [[mock:explode]]');
    const badCount = await post('/v1/chat/completions', ask('hi [[mock:tokens=many]]'));
    expect(badCount.json.error.message).toContain('[[mock:tokens]] takes a whole number');
    expect((await post('/v1/embeddings', { input: 'x' })).status).toBe(404);
    expect((await post('/v1/chat/completions', '{not json')).status).toBe(400);
    const noMessages = await post('/v1/chat/completions', { model: 'm' });
    expect(noMessages.json.error).toMatchObject({ type: 'invalid_request_error', message: "'messages' must be an array of messages" });
  });

  test('answers CORS preflights when asked to', async () => {
    await start({ cors: true });
    const preflight = await fetch(`${upstream.baseURL}/chat/completions`, {
      method: 'OPTIONS',
      headers: { origin: 'http://example.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    const answered = await post('/v1/chat/completions', ask('hi'));
    expect(answered.headers.get('access-control-allow-origin')).toBe('*');
    expect(upstream.requests).toHaveLength(1);
  });

  test('waits for drain while the client does not read, and resumes when it does', async () => {
    await start();
    const tokens = 60_000;
    let paused!: (res: IncomingMessage) => void;
    let failed!: (error: Error) => void;
    const response = new Promise<IncomingMessage>((resolve, reject) => ((paused = resolve), (failed = reject)));
    const req = request(`${upstream.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.pause();
      paused(res);
    });
    req.on('error', failed);
    req.end(JSON.stringify({ ...ask(`big [[mock:tokens=${tokens}]]`), stream: true }));
    const res = await response;
    // Without backpressure the mock would never wait; it writes 60,000 tokens, far more than the socket buffers take.
    await upstream.waitFor(() => upstream.requests[0]?.waitingForDrain === true, 10_000);
    expect(upstream.requests[0].tokensSent).toBeLessThan(tokens);
    expect(upstream.requests[0].state).toBe('open');
    let tail = '';
    res.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString('utf8')).slice(-60);
    });
    res.resume();
    await once(res, 'end');
    expect(tail).toMatch(/"finish_reason":"stop"\}\]\}\n\ndata: \[DONE\]\n\n$/);
    expect(upstream.requests[0]).toMatchObject({ state: 'completed', tokensSent: tokens, waitingForDrain: false });
  });

  test('waitFor checks its condition when the mock records something, not on a timer; a condition that never holds rejects after timeoutMs', async () => {
    await start();
    let checks = 0;
    const never = upstream.waitFor(() => {
      checks++;
      return false;
    }, 200);
    await expect(never).rejects.toThrow('waitFor: the condition did not hold within 200 ms');
    // Once when it was called; nothing was recorded in the 200 ms after.
    expect(checks).toBe(1);

    const states: string[] = [];
    const completed = upstream.waitFor(() => {
      states.push(upstream.requests[0]?.state ?? 'none');
      return upstream.requests[0]?.state === 'completed';
    });
    await collect(client.chat.completions.stream(ask('Hi [[mock:text=ab]] [[mock:delay=0]]')).pipe(contentDeltas()));
    await completed;
    expect(states[0]).toBe('none');
    expect(states.at(-1)).toBe('completed');
    // A check per thing recorded: the connection, the request, its head, each frame, its end; far from a poll every few ms.
    expect(states.length).toBeLessThan(20);
  });

  test('close() destroys open sockets and ends the streams still running', async () => {
    await start();
    let delivered!: () => void;
    const firstDelta = new Promise<void>((resolve) => (delivered = resolve));
    const running = collect(client.chat.completions.stream(ask('x [[mock:stall=1]]')).pipe(contentDeltas(), tap(() => delivered())));
    await firstDelta;
    expect(upstream.requests[0].tokensSent).toBe(1);
    expect(upstream.openConnections()).toBe(1);
    await upstream.close();
    const { values, error } = await running;
    expect(values).toHaveLength(1);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(upstream.openConnections()).toBe(0);
    expect(upstream.closedConnections()).toBe(1);
    expect(upstream.requests[0].state).toBe('aborted');
  });
});
