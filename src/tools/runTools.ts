import { identity, type Observable } from 'rxjs';
import type { OpenAIRxClient, RequestOptions } from '../client.js';
import { accumulateChatCompletion } from '../openai/accumulateChatCompletion.js';
import type { ChatCompletionAssistantMessageParam, ChatCompletionFunctionTool, ChatCompletionMessageParam } from '../openai/chatParams.js';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParams,
  ChatCompletionMessage,
  ChatCompletionMessageToolCall,
  CompletionUsage,
} from '../openai/chatTypes.js';
import { retryStream, type RetryStreamConfig } from '../operators/retryStream.js';
import type * as z from 'zod/v4/core';
import type { RunToolContext } from './executeTool.js';
import type { LoopTool } from './runToolCall.js';
import { toolLoop, type ToolLoopApi, type ToolLoopConfig } from './toolLoop.js';
import type { ToolCall, ToolRunEvent } from './toolRunEvents.js';
import { withSnapshots } from './withSnapshots.js';

/**
 * A function tool the loop can run: the definition sent to the model, its
 * arguments' zod `schema` and its `execute`. `zodFunction({ name, parameters,
 * execute })` makes one.
 */
export interface RunnableTool extends ChatCompletionFunctionTool {
  readonly schema: z.$ZodType;
  /** Gets the validated arguments and `{ signal, call }`; returns a value, a Promise or an Observable. */
  readonly execute?: (args: never, context: RunToolContext) => unknown;
}

export interface RunToolsOptions extends Omit<ToolLoopConfig, 'tools'> {
  /** The tools the model may call (sent as `tools`); each must have an `execute`. */
  tools: readonly RunnableTool[];
  /** `retryStream` around each step's request: a failed request is sent again; tools that ran are not run again. */
  retry?: RetryStreamConfig;
  /** Options of every request the loop sends: headers, timeouts, `head` (called once per request). */
  request?: RequestOptions;
}

/** The chat request of a tool loop: everything but `tools`, which come from the options. */
export type RunToolsParams = Omit<ChatCompletionCreateParams, 'tools'>;

/** What the chat tool loop emits: see {@link ToolRunEvent}. */
export type ChatToolRunEvent = ToolRunEvent<ChatCompletionChunk, ChatCompletion, ChatCompletionMessageParam, CompletionUsage>;

/**
 * The tool loop over chat completions, cold: streams a completion; when it
 * asks for tools, runs them (concurrently, up to `concurrency`), sends the
 * assistant message and one `tool` message per call (in call order) back,
 * and repeats until the model answers without tool calls or `maxSteps`
 * (default 10) completions were made. Arguments that fail a tool's schema,
 * tools that throw and tools that were not offered go back to the model as
 * an `Error: …` result. Unsubscribing aborts the request in flight and
 * cancels the running tools (an Observable tool is unsubscribed, a Promise
 * tool's `signal` aborted); nothing starts afterwards. The same as
 * `client.chat.completions.runTools(params, options)`, and tree-shakable.
 *
 * @example
 * const getWeather = zodFunction({
 *   name: 'get_weather',
 *   parameters: z.object({ city: z.string() }),
 *   execute: ({ city }, { signal }) => fetchWeather(city, { signal }),
 * });
 * runTools(client, { model, messages, stream_options: { include_usage: true } }, { tools: [getWeather] }).subscribe((event) => {
 *   if (event.type === 'chunk') render(event.snapshot);
 *   if (event.type === 'tool-call') showRunning(event.call);
 *   if (event.type === 'done') save(event.messages, event.usage);
 * });
 */
export function runTools(client: Pick<OpenAIRxClient, 'chat'>, params: RunToolsParams, options: RunToolsOptions): Observable<ChatToolRunEvent> {
  const api: ToolLoopApi<ChatCompletionChunk, ChatCompletion, ChatCompletionMessageParam, CompletionUsage> = {
    stream: (messages) =>
      client.chat.completions
        .stream({ ...params, messages, tools: options.tools }, options.request)
        .pipe(withSnapshots(accumulateChatCompletion), options.retry ? retryStream(options.retry) : identity),
    calls: (completion) => (answerOf(completion)?.tool_calls ?? []).map(toolCallOf),
    reply: (completion) => {
      const message = answerOf(completion);
      return message ? [assistantMessage(message)] : [];
    },
    result: (call, content) => ({ role: 'tool', tool_call_id: call.id, content }),
    usage: (completion) => completion.usage,
  };
  return toolLoop(api, params.messages, { ...options, tools: options.tools.map(loopTool) });
}

/** The tool as the loop runs it, named as its definition names it. */
export function loopTool(tool: RunnableTool): LoopTool {
  return { name: tool.function.name, schema: tool.schema, execute: tool.execute?.bind(tool) as LoopTool['execute'] };
}

/** The first choice's message: the one the loop answers (`n` > 1 is not a tool loop). */
function answerOf(completion: ChatCompletion): ChatCompletionMessage | undefined {
  return completion.choices[0]?.message;
}

function toolCallOf(call: ChatCompletionMessageToolCall): ToolCall {
  return call.type === 'custom'
    ? { id: call.id, name: call.custom.name, arguments: call.custom.input }
    : { id: call.id, name: call.function.name, arguments: call.function.arguments };
}

/** The answer as the next request sends it back: role, content, refusal and tool calls, without provider extras (reasoning text). */
function assistantMessage(message: ChatCompletionMessage): ChatCompletionAssistantMessageParam {
  const toolCalls = message.tool_calls ?? [];
  return {
    role: 'assistant',
    content: message.content ?? (toolCalls.length > 0 || message.refusal ? null : ''),
    ...(message.refusal ? { refusal: message.refusal } : {}),
    ...(toolCalls.length > 0 ? { tool_calls: toolCalls.map(sentCall) } : {}),
  };
}

function sentCall(call: ChatCompletionMessageToolCall): ChatCompletionMessageToolCall {
  return call.type === 'custom'
    ? { id: call.id, type: 'custom', custom: { name: call.custom.name, input: call.custom.input } }
    : { id: call.id, type: 'function', function: { name: call.function.name, arguments: call.function.arguments } };
}
