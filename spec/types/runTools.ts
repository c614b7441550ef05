import { of, type Observable } from 'rxjs';
import * as z from 'zod';
import {
  runResponseTools,
  runTools,
  zodFunction,
  type ChatCompletion,
  type ChatCompletionMessageParam,
  type ChatToolRunEvent,
  type CompletionUsage,
  type OpenAIRxClient,
  type Response,
  type ResponseInputItem,
  type ResponseToolRunEvent,
  type ToolCall,
} from '../../src/api';
import { assertType, type Equal } from './expect';

const getWeather = zodFunction({ name: 'get_weather', parameters: z.object({ city: z.string() }), execute: ({ city }) => of(`sunny in ${city}`) });

/* Tools made by zodFunction (value, Promise or Observable results) go straight in; events narrow by type. */

export function chatLoop(client: OpenAIRxClient): Observable<ChatToolRunEvent> {
  const run$ = runTools(client, { model: 'm', messages: [{ role: 'user', content: 'Weather?' }] }, { tools: [getWeather], maxSteps: 3, concurrency: 2 });
  run$.subscribe((event) => {
    assertType<Equal<typeof event.step, number>>();
    if (event.type === 'tool-call') assertType<Equal<typeof event.call, ToolCall>>();
    if (event.type === 'done') {
      assertType<Equal<typeof event.messages, readonly ChatCompletionMessageParam[]>>();
      assertType<Equal<typeof event.completion, ChatCompletion>>();
      assertType<Equal<typeof event.usage, CompletionUsage | undefined>>();
    }
  });
  // @ts-expect-error tools come from the options, not the params
  runTools(client, { model: 'm', messages: [], tools: [getWeather] }, { tools: [getWeather] });
  // @ts-expect-error a plain definition has no schema to check the arguments with
  runTools(client, { model: 'm', messages: [] }, { tools: [{ type: 'function', function: { name: 'f' } }] });
  return run$;
}

export function responsesLoop(client: OpenAIRxClient): Observable<ResponseToolRunEvent> {
  const run$ = runResponseTools(client, { model: 'm', input: 'Weather?' }, { tools: [getWeather] });
  run$.subscribe((event) => {
    if (event.type === 'done') {
      assertType<Equal<typeof event.messages, readonly ResponseInputItem[]>>();
      assertType<Equal<typeof event.completion, Response>>();
    }
  });
  return run$;
}
