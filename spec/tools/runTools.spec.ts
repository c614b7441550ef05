import { lastValueFrom, Observable, Subject, toArray } from 'rxjs';
import * as z from 'zod';
import {
  createClient,
  InvalidRequestError,
  OutputValidationError,
  runTools,
  zodFunction,
  type ChatCompletionMessageParam,
  type ChatToolRunEvent,
  type RunToolsParams,
} from '../../src/index.node';
import { chatFrames, sseText } from '../../src/testing/index.node';
import { useMockUpstream } from '../helpers/mockUpstream';
import { sseHead, startServer, type TestServer } from '../helpers/server';
import { outline, recordRun } from './toolRun';

const ask = (content: string, extra: Partial<RunToolsParams> = {}): RunToolsParams => ({
  model: 'mock',
  messages: [{ role: 'user', content }],
  stream_options: { include_usage: true },
  ...extra,
});

const City = z.object({ city: z.string() });

/** A weather tool whose calls are recorded; its result is computed from the city. */
function weatherTool() {
  const calls: string[] = [];
  const tool = zodFunction({
    name: 'get_weather',
    parameters: City,
    execute: ({ city }) => {
      calls.push(city);
      return { city, tempC: city.length };
    },
  });
  return { tool, calls };
}

const resultOf = (events: ChatToolRunEvent[]) => events.filter((event) => event.type === 'tool-result');
const doneOf = (events: ChatToolRunEvent[]) => {
  const done = events.at(-1);
  if (done?.type !== 'done') throw new Error(`the last event is ${done?.type}, not done`);
  return done;
};

describe('runTools over the mock upstream', () => {
  const mock = useMockUpstream({ tokenDelayMs: 0 });

  test('is cold: nothing is sent before subscribe', async () => {
    const { tool } = weatherTool();
    const run$ = runTools(mock.client, ask('Paris'), { tools: [tool] });
    expect(mock.upstream.requests).toHaveLength(0);
    await lastValueFrom(run$);
    expect(mock.upstream.requests).toHaveLength(2);
  });

  test('two parallel calls, their arguments split across chunks: both run, and the second request is exactly what the API expects', async () => {
    const { tool, calls } = weatherTool();
    const events = await lastValueFrom(runTools(mock.client, ask('Paris and Oslo [[mock:parallel]]'), { tools: [tool] }).pipe(toArray()));

    // Each call's arguments came in several chunks, the second call's after the first's, by index.
    const fragments = events.flatMap((event) =>
      event.type === 'chunk' ? (event.chunk.choices[0]?.delta?.tool_calls ?? []).filter((call) => call.function?.arguments) : [],
    );
    expect(fragments.filter((fragment) => fragment.index === 0).length).toBeGreaterThan(2);
    expect(fragments.filter((fragment) => fragment.index === 1).length).toBeGreaterThan(2);

    // The tool is synchronous: each call's result follows it at once.
    expect(outline(events)).toEqual(['1:completion', '1:tool-call', '1:tool-result', '1:tool-call', '1:tool-result', '2:completion', '2:done']);
    expect(calls).toEqual(['Paris', 'Oslo']);
    const expectedMessages: ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Paris and Oslo [[mock:parallel]]' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_mock_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_mock_1_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_mock_1', content: '{"city":"Paris","tempC":5}' },
      { role: 'tool', tool_call_id: 'call_mock_1_2', content: '{"city":"Oslo","tempC":4}' },
    ];
    const second = mock.upstream.requests[1].body as Record<string, unknown>;
    expect(second.messages).toEqual(expectedMessages);
    // The tool is sent as its plain definition (schema and execute are not enumerable), the params as given.
    expect(second).toEqual({ ...ask(''), messages: expectedMessages, tools: [JSON.parse(JSON.stringify(tool))], stream: true });

    const done = doneOf(events);
    const answer = 'The tools returned {"city":"Paris","tempC":5} and {"city":"Oslo","tempC":4}.';
    expect(done).toMatchObject({ reason: 'answered', step: 2, pending: [] });
    expect(done.completion.choices[0].message.content).toMatch(new RegExp(`^${answer.replace(/[{}.()]/g, '\\$&')}`));
    expect(done.messages).toEqual([...expectedMessages, { role: 'assistant', content: done.completion.choices[0].message.content }]);
    const usage = events.flatMap((event) => (event.type === 'completion' ? [event.completion.usage!] : []));
    expect(done.usage).toEqual({
      prompt_tokens: usage[0].prompt_tokens! + usage[1].prompt_tokens!,
      completion_tokens: usage[0].completion_tokens! + usage[1].completion_tokens!,
      total_tokens: usage[0].total_tokens! + usage[1].total_tokens!,
    });
  });

  test('a Promise tool and an Observable tool run at the same time: each waits for the other to have started', async () => {
    const started = new Subject<string>();
    const startedNames: string[] = [];
    started.subscribe((name) => startedNames.push(name));
    // Each finishes only once the other has started: run one after the other, they would never finish.
    const othersStart = (other: string) =>
      new Promise<void>((resolve) => {
        if (startedNames.includes(other)) resolve();
        else started.subscribe((name) => name === other && resolve());
      });
    const promiseTool = zodFunction({
      name: 'get_weather',
      parameters: City,
      execute: async ({ city }) => {
        started.next('promise');
        await othersStart('observable');
        return `sunny in ${city}`;
      },
    });
    const observableTool = zodFunction({
      name: 'get_time',
      parameters: City,
      execute: ({ city }) =>
        new Observable<string>((subscriber) => {
          started.next('observable');
          void othersStart('promise').then(() => {
            subscriber.next('draft');
            subscriber.next(`noon in ${city}`);
            subscriber.complete();
          });
        }),
    });

    const events = await lastValueFrom(runTools(mock.client, ask('Paris [[mock:parallel]]'), { tools: [promiseTool, observableTool] }).pipe(toArray()));

    expect(outline(events).slice(0, 5)).toEqual(['1:completion', '1:tool-call', '1:tool-call', '1:tool-result', '1:tool-result']);
    expect(startedNames).toEqual(['promise', 'observable']);
    expect(resultOf(events).map((event) => [event.call.name, event.content])).toEqual(
      expect.arrayContaining([
        ['get_weather', 'sunny in Paris'],
        // An Observable tool's result is its last value.
        ['get_time', 'noon in Paris'],
      ]),
    );
    expect(doneOf(events).reason).toBe('answered');
  });

  test('concurrency: 1 runs the calls one at a time, in call order', async () => {
    const started: string[] = [];
    const finish = new Map<string, () => void>();
    const tool = zodFunction({
      name: 'get_weather',
      parameters: City,
      execute: ({ city }) => {
        started.push(city);
        return new Promise<string>((resolve) => finish.set(city, () => resolve(`sunny in ${city}`)));
      },
    });
    const run = recordRun(runTools(mock.client, ask('Paris and Oslo [[mock:parallel]]'), { tools: [tool], concurrency: 1 }));
    await run.until((events) => events.some((event) => event.type === 'tool-call'), 'the first call to start');
    // Without the limit both calls would have started in the same turn as the first.
    expect(started).toEqual(['Paris']);

    finish.get('Paris')!();
    await run.until((events) => events.filter((event) => event.type === 'tool-call').length === 2, 'the second call to start');
    finish.get('Oslo')!();
    await run.ended();

    expect(outline(run.events).slice(0, 5)).toEqual(['1:completion', '1:tool-call', '1:tool-result', '1:tool-call', '1:tool-result']);
    expect(started).toEqual(['Paris', 'Oslo']);
    expect(doneOf(run.events).reason).toBe('answered');
  });

  test('arguments that fail the schema go back to the model as the result; the tool does not run', async () => {
    let ran = false;
    const strict = zodFunction({
      name: 'get_weather',
      parameters: z.object({ city: z.string().refine((city) => city === city.toUpperCase(), 'the city must be in capitals') }),
      execute: () => (ran = true),
    });
    const events = await lastValueFrom(runTools(mock.client, ask('Paris'), { tools: [strict] }).pipe(toArray()));

    expect(ran).toBe(false);
    const [result] = resultOf(events);
    expect(result.outcome).toMatchObject({ kind: 'invalid-arguments', error: expect.any(OutputValidationError) });
    expect(events.find((event) => event.type === 'tool-call')).toMatchObject({ args: undefined, call: { arguments: '{"city":"Paris"}' } });
    const content = 'Error: the arguments for get_weather are invalid, so it did not run. The arguments failed the schema at city: the city must be in capitals Call it again with arguments that match its parameters.';
    expect(result.content).toBe(content);
    expect((mock.upstream.requests[1].body as { messages: unknown[] }).messages.at(-1)).toEqual({ role: 'tool', tool_call_id: 'call_mock_1', content });
    expect(doneOf(events).reason).toBe('answered');
  });

  test('a tool that throws, or whose Promise rejects, goes back to the model as an error result', async () => {
    const throwing = zodFunction({
      name: 'get_weather',
      parameters: City,
      execute: (): string => {
        throw new Error('the weather service is down');
      },
    });
    const rejecting = zodFunction({ name: 'get_time', parameters: City, execute: () => Promise.reject(new TypeError('no clock')) });
    const events = await lastValueFrom(runTools(mock.client, ask('Paris [[mock:parallel]]'), { tools: [throwing, rejecting] }).pipe(toArray()));

    const results = resultOf(events);
    expect(results.map((event) => event.outcome.kind)).toEqual(['failed', 'failed']);
    expect((mock.upstream.requests[1].body as { messages: unknown[] }).messages.slice(2)).toEqual([
      { role: 'tool', tool_call_id: 'call_mock_1', content: 'Error: get_weather failed: the weather service is down' },
      { role: 'tool', tool_call_id: 'call_mock_1_2', content: 'Error: get_time failed: no clock' },
    ]);
    expect(doneOf(events).reason).toBe('answered');
  });

  test('maxSteps: a model that keeps calling tools ends with reason max-steps, the unanswered calls pending and not run', async () => {
    const { tool, calls } = weatherTool();
    const events = await lastValueFrom(runTools(mock.client, ask('Paris [[mock:tool-rounds=5]]'), { tools: [tool], maxSteps: 2 }).pipe(toArray()));

    expect(mock.upstream.requests).toHaveLength(2);
    expect(calls).toEqual(['Paris']);
    expect(outline(events)).toEqual(['1:completion', '1:tool-call', '1:tool-result', '2:completion', '2:done']);
    const done = doneOf(events);
    expect(done.reason).toBe('max-steps');
    expect(done.pending).toEqual([{ id: 'call_mock_2', name: 'get_weather', arguments: '{"city":"Paris"}' }]);
    // The conversation stops at the last tool results: sent as it is, it is a valid request.
    expect(done.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool']);
    expect(done.completion.choices[0].message.tool_calls).toHaveLength(1);
  });

  test('the default maxSteps is 10 completions', async () => {
    const { tool, calls } = weatherTool();
    const done = await lastValueFrom(runTools(mock.client, ask('Paris [[mock:tool-rounds=50]]'), { tools: [tool] }));
    expect(done).toMatchObject({ type: 'done', reason: 'max-steps', step: 10 });
    expect(mock.upstream.requests).toHaveLength(10);
    expect(calls).toHaveLength(9);
  });

  test('retry: each step is retried on its own, and a retried step never runs the tools of an earlier one again', async () => {
    const { tool, calls } = weatherTool();
    const retries: number[] = [];
    const done = await lastValueFrom(
      runTools(mock.client, ask('Paris [[mock:error=503]] [[mock:times=1]]'), {
        tools: [tool],
        retry: { count: 1, initialDelayMs: 1, onRetry: ({ retryCount }) => retries.push(retryCount) },
      }),
    );
    // Each step's first request fails (times=1 counts per body) and its retry succeeds.
    expect(mock.upstream.requests.map((request) => request.status)).toEqual([503, 200, 503, 200]);
    expect(retries).toEqual([1, 1]);
    expect(calls).toEqual(['Paris']);
    expect(done).toMatchObject({ type: 'done', reason: 'answered', step: 2 });
  });

  test('without retry a failed request fails the run', async () => {
    const { tool, calls } = weatherTool();
    await expect(lastValueFrom(runTools(mock.client, ask('Paris [[mock:error=503]]'), { tools: [tool] }))).rejects.toMatchObject({ status: 503 });
    expect(calls).toEqual([]);
  });

  test('unsubscribing mid-stream aborts the request: no tool starts and no further request is sent', async () => {
    const { tool, calls } = weatherTool();
    const run = recordRun(runTools(mock.client, ask('Paris [[mock:delay=20]]'), { tools: [tool] }));
    await run.until((events) => events.some((event) => event.type === 'chunk' && !!event.snapshot.choices[0]?.message.tool_calls?.[0]?.function?.arguments), 'the first argument fragment');

    run.subscription.unsubscribe();

    await mock.upstream.waitFor(() => mock.upstream.requests[0].state === 'aborted');
    expect(mock.upstream.requests).toHaveLength(1);
    expect(calls).toEqual([]);
    expect(run.events.some((event) => event.type !== 'chunk')).toBe(false);
  });

  test('unsubscribing while tools run unsubscribes an Observable tool and aborts a Promise tool’s signal; nothing is sent', async () => {
    let signal: AbortSignal | undefined;
    let observableTornDown = false;
    let observableStarted = false;
    const promiseTool = zodFunction({
      name: 'get_weather',
      parameters: City,
      execute: (_args, context) => {
        signal = context.signal;
        return new Promise<string>(() => undefined);
      },
    });
    const observableTool = zodFunction({
      name: 'get_time',
      parameters: City,
      execute: () =>
        new Observable<string>(() => {
          observableStarted = true;
          return () => (observableTornDown = true);
        }),
    });
    const run = recordRun(runTools(mock.client, ask('Paris [[mock:parallel]]'), { tools: [promiseTool, observableTool] }));
    await run.until((events) => events.filter((event) => event.type === 'tool-call').length === 2, 'both tools to start');
    expect(signal?.aborted).toBe(false);
    expect(observableStarted).toBe(true);

    run.subscription.unsubscribe();

    expect(signal?.aborted).toBe(true);
    expect(observableTornDown).toBe(true);
    expect(mock.upstream.requests).toHaveLength(1);
    expect(run.events.some((event) => event.type === 'tool-result')).toBe(false);
  });

  test('unsubscribing while the first of two calls runs (concurrency 1): the second never starts', async () => {
    const started: string[] = [];
    let signal: AbortSignal | undefined;
    const slow = zodFunction({
      name: 'get_weather',
      parameters: City,
      execute: ({ city }, context) => {
        started.push(city);
        signal = context.signal;
        return new Promise<string>(() => undefined);
      },
    });
    const run = recordRun(runTools(mock.client, ask('Paris and Oslo [[mock:parallel]]'), { tools: [slow], concurrency: 1 }));
    await run.until((events) => events.some((event) => event.type === 'tool-call'), 'the first tool to start');

    run.subscription.unsubscribe();

    expect(started).toEqual(['Paris']);
    expect(signal?.aborted).toBe(true);
    expect(run.events.filter((event) => event.type === 'tool-call')).toHaveLength(1);
  });

  test('a finished tool’s signal is not aborted, not even when the run ends', async () => {
    let signal: AbortSignal | undefined;
    const tool = zodFunction({
      name: 'get_weather',
      parameters: City,
      execute: async (_args, context) => {
        signal = context.signal;
        return 'ok';
      },
    });
    await lastValueFrom(runTools(mock.client, ask('Paris'), { tools: [tool] }));
    expect(signal?.aborted).toBe(false);
  });

  test('a tool gets the call it answers in its context', async () => {
    const seen: unknown[] = [];
    const tool = zodFunction({ name: 'get_weather', parameters: City, execute: (_args, context) => seen.push((context as { call?: unknown }).call) });
    await lastValueFrom(runTools(mock.client, ask('Paris'), { tools: [tool] }));
    expect(seen).toEqual([{ id: 'call_mock_1', name: 'get_weather', arguments: '{"city":"Paris"}' }]);
  });

  test('a tool without execute, or two tools of one name, fail the run at subscribe with InvalidRequestError; so does maxSteps 0', async () => {
    const { tool } = weatherTool();
    const bare = zodFunction({ name: 'get_weather', parameters: City });
    const run = (options: Parameters<typeof runTools>[2]) => lastValueFrom(runTools(mock.client, ask('Paris'), options));
    await expect(run({ tools: [bare] })).rejects.toThrow(new InvalidRequestError({ message: 'runTools: the tool "get_weather" has no execute function' }));
    await expect(run({ tools: [tool, tool] })).rejects.toThrow(new InvalidRequestError({ message: 'runTools: two tools are named "get_weather"' }));
    await expect(run({ tools: [tool], maxSteps: 0 })).rejects.toThrow("runTools: 'maxSteps' must be a whole number of at least 1, got 0");
    expect(mock.upstream.requests).toHaveLength(0);
  });
});

describe('runTools against a scripted server', () => {
  let server: TestServer;
  let answers: string[];

  beforeEach(async () => {
    answers = [];
    server = await startServer((_req, res) => {
      sseHead(res);
      res.end(answers.shift() ?? sseText(chatFrames(['Done.'])));
    });
  });
  afterEach(() => server.close());

  test('a tool the model names but was not offered gets an error result naming the tools there are', async () => {
    answers.push(sseText(chatFrames({ toolCalls: [{ id: 'call_1', name: 'launch_rockets', arguments: ['{"count":', '3}'] }] })));
    const { tool, calls } = weatherTool();
    const client = createClient({ baseURL: server.url });
    const events = await lastValueFrom(runTools(client, ask('Hi'), { tools: [tool] }).pipe(toArray()));

    expect(calls).toEqual([]);
    const [result] = resultOf(events);
    expect(result.outcome).toEqual({ kind: 'unknown-tool' });
    expect(JSON.parse(server.requests[1].body).messages.at(-1)).toEqual({
      role: 'tool',
      tool_call_id: 'call_1',
      content: 'Error: there is no tool named "launch_rockets". The tools are: get_weather.',
    });
    expect(doneOf(events)).toMatchObject({ reason: 'answered', usage: undefined });
  });

  test('a stream that ends without a chunk fails the run with StreamTruncatedError', async () => {
    answers.push('data: [DONE]\n\n');
    const { tool } = weatherTool();
    const client = createClient({ baseURL: server.url });
    await expect(lastValueFrom(runTools(client, ask('Hi'), { tools: [tool] }))).rejects.toMatchObject({
      name: 'StreamTruncatedError',
      message: 'The stream of step 1 ended without a single chunk',
    });
  });
});
