import { identity, type Observable } from 'rxjs';
import type { OpenAIRxClient } from '../client.js';
import { accumulateResponse } from '../openai/accumulateResponse.js';
import type { ResponseFunctionTool, ResponseInputItem } from '../openai/responseParams.js';
import type { Response, ResponseCreateParams, ResponseStreamEvent, ResponseUsage } from '../openai/responseTypes.js';
import { retryStream } from '../operators/retryStream.js';
import { loopTool, type RunnableTool, type RunToolsOptions } from './runTools.js';
import { toolLoop, type ToolLoopApi } from './toolLoop.js';
import type { ToolRunEvent } from './toolRunEvents.js';
import { withSnapshots } from './withSnapshots.js';

/** The Responses request of a tool loop: everything but `tools`, which come from the options. */
export type RunResponseToolsParams = Omit<ResponseCreateParams, 'tools'>;

/** What the Responses tool loop emits: see {@link ToolRunEvent}; `done.messages` are input items. */
export type ResponseToolRunEvent = ToolRunEvent<ResponseStreamEvent, Response, ResponseInputItem, ResponseUsage>;

/**
 * The tool loop over the Responses API, as {@link runTools} for chat: the
 * same tools (`zodFunction`, sent in the Responses shape), options and
 * events. Each step sends the conversation so far as `input`: the items it
 * started with (a string `input` as one user message), every response's
 * output items as they came (messages, reasoning, `function_call`s), and a
 * `function_call_output` per call, in call order. Nothing relies on stored
 * responses: `store: false` works, and `previous_response_id`, if given, is
 * sent with every step. The same as `client.responses.runTools(params, options)`.
 *
 * @example
 * runResponseTools(client, { model, input: 'Weather in Paris?' }, { tools: [getWeather] })
 *   .pipe(filter((event) => event.type === 'done'))
 *   .subscribe(({ completion }) => show(completion.output));
 */
export function runResponseTools(
  client: Pick<OpenAIRxClient, 'responses'>,
  params: RunResponseToolsParams,
  options: RunToolsOptions,
): Observable<ResponseToolRunEvent> {
  const tools = options.tools.map(responseTool);
  const api: ToolLoopApi<ResponseStreamEvent, Response, ResponseInputItem, ResponseUsage> = {
    stream: (input) =>
      client.responses
        .stream({ ...params, input, tools }, options.request)
        .pipe(withSnapshots(accumulateResponse), options.retry ? retryStream(options.retry) : identity),
    calls: (response) =>
      response.output
        .filter((item) => item.type === 'function_call')
        .map((item) => ({ id: item.call_id ?? '', name: item.name ?? '', arguments: item.arguments ?? '' })),
    // Output items go back as input as they came (see ResponseInputItem).
    reply: (response) => response.output as ResponseInputItem[],
    result: (call, output) => ({ type: 'function_call_output', call_id: call.id, output }),
    usage: (response) => response.usage,
  };
  const input: readonly ResponseInputItem[] = typeof params.input === 'string' ? [{ role: 'user', content: params.input }] : (params.input ?? []);
  return toolLoop(api, input, { ...options, tools: options.tools.map(loopTool) });
}

/** A chat function tool in the Responses API's flat shape. */
function responseTool({ function: definition }: RunnableTool): ResponseFunctionTool {
  return { type: 'function', ...definition };
}
