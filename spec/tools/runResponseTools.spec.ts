import { lastValueFrom, toArray } from 'rxjs';
import * as z from 'zod';
import { runResponseTools, zodFunction, type ResponseToolRunEvent } from '../../src/index.node';
import { useMockUpstream } from '../helpers/mockUpstream';
import { outline, recordRun } from './toolRun';

const getWeather = (calls: string[]) =>
  zodFunction({
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: z.object({ city: z.string() }),
    execute: ({ city }) => {
      calls.push(city);
      return `sunny in ${city}`;
    },
  });

describe('runResponseTools over the mock upstream', () => {
  const mock = useMockUpstream({ tokenDelayMs: 0 });

  test('runs the function calls and sends the output items and one function_call_output per call back as input', async () => {
    const calls: string[] = [];
    const events: ResponseToolRunEvent[] = await lastValueFrom(
      runResponseTools(mock.client, { model: 'mock', input: 'Paris and Oslo [[mock:parallel]]', store: false }, { tools: [getWeather(calls)] }).pipe(toArray()),
    );

    expect(calls).toEqual(['Paris', 'Oslo']);
    expect(outline(events)).toEqual(['1:completion', '1:tool-call', '1:tool-result', '1:tool-call', '1:tool-result', '2:completion', '2:done']);
    const first = mock.upstream.requests[0].body as Record<string, unknown>;
    // The tool in the Responses API's flat shape.
    expect(first.tools).toEqual([
      {
        type: 'function',
        name: 'get_weather',
        description: 'The weather in a city',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
        strict: true,
      },
    ]);
    expect(first.input).toEqual([{ role: 'user', content: 'Paris and Oslo [[mock:parallel]]' }]);
    const second = mock.upstream.requests[1].body as Record<string, unknown>;
    expect(second).toMatchObject({ model: 'mock', store: false, stream: true });
    expect(second.input).toEqual([
      { role: 'user', content: 'Paris and Oslo [[mock:parallel]]' },
      { id: 'fc_mock_1_0', type: 'function_call', status: 'completed', call_id: 'call_mock_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { id: 'fc_mock_1_1', type: 'function_call', status: 'completed', call_id: 'call_mock_1_2', name: 'get_weather', arguments: '{"city":"Oslo"}' },
      { type: 'function_call_output', call_id: 'call_mock_1', output: 'sunny in Paris' },
      { type: 'function_call_output', call_id: 'call_mock_1_2', output: 'sunny in Oslo' },
    ]);

    const done = events.at(-1);
    if (done?.type !== 'done') throw new Error('no done event');
    expect(done.reason).toBe('answered');
    expect(done.completion.output[0].content?.[0].text).toMatch(/^The tools returned sunny in Paris and sunny in Oslo\./);
    expect(done.messages).toEqual([...(second.input as unknown[]), ...done.completion.output]);
    expect(done.usage).toMatchObject({ input_tokens: expect.any(Number), output_tokens: expect.any(Number) });
    const outputTokens = events.flatMap((event) => (event.type === 'completion' ? [event.completion.usage?.output_tokens ?? 0] : []));
    expect(done.usage?.output_tokens).toBe(outputTokens[0] + outputTokens[1]);
  });

  test('unsubscribing while the tool runs aborts its signal; no further request', async () => {
    let signal: AbortSignal | undefined;
    const slow = zodFunction({
      name: 'get_weather',
      parameters: z.object({ city: z.string() }),
      execute: (_args, context) => {
        signal = context.signal;
        return new Promise<string>(() => undefined);
      },
    });
    const run = recordRun(runResponseTools(mock.client, { model: 'mock', input: 'Paris' }, { tools: [slow] }));
    await run.until((events) => events.some((event) => event.type === 'tool-call'), 'the tool to start');

    run.subscription.unsubscribe();

    expect(signal?.aborted).toBe(true);
    expect(mock.upstream.requests).toHaveLength(1);
  });
});
