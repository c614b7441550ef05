import { isRecord } from '../sse/httpErrors.js';
import type { SseFrame } from '../sse/types.js';
import { chatCompletion, chatStreamChunks, type UsageJson } from './chatBuilders.js';
import { completion, completionStreamChunks } from './completionBuilders.js';
import { responseFrames, responseObject, responseUsage } from './responseBuilders.js';
import { doneFrame, sseEvent } from './sseBuilders.js';

/** One tool call the simulated model makes, its arguments in token-sized pieces. */
export interface MockToolCall {
  name: string;
  callId: string;
  argumentTokens: string[];
}

/** What the simulated model produces for one request. */
export type MockAnswer = { kind: 'text'; tokens: string[]; finish: 'stop' | 'length' } | { kind: 'tool'; calls: MockToolCall[] };

export interface MockTool {
  name: string;
  parameters: unknown;
}

/** Everything a request's answer needs besides the answer itself. */
export interface MockContext {
  id: string;
  model: string;
  created: number;
  promptTokens: number;
  includeUsage: boolean;
}

/** One frame of a planned stream; `token` frames are paced and counted by the faults. */
export interface PlannedFrame {
  frame: SseFrame;
  token: boolean;
}

/** How one OpenAI endpoint reads its request and shapes its answer. */
export interface MockEndpoint {
  idPrefix: string;
  /** A message for HTTP 400 when the body is not a request of this endpoint. */
  invalid(body: Record<string, unknown>): string | undefined;
  /** The text of the last user message (directives included). */
  prompt(body: Record<string, unknown>): string;
  /** All the request's text, to count prompt tokens. */
  inputText(body: Record<string, unknown>): string;
  /** The outputs of the tool results that end the conversation, in order; empty when it does not end with any. */
  toolResults(body: Record<string, unknown>): string[];
  /** How many turns of tool results came after the last user message. */
  toolRounds(body: Record<string, unknown>): number;
  /** The function tools the model may call, in order: the one `tool_choice` names, else every one offered. */
  tools(body: Record<string, unknown>): MockTool[];
  /** Whether the request lets the model call several tools in one turn (`parallel_tool_calls` is not `false`). */
  parallelCalls(body: Record<string, unknown>): boolean;
  /** The JSON Schema the answer must follow (structured output), if the request asks for one. */
  outputSchema(body: Record<string, unknown>): unknown;
  maxTokens(body: Record<string, unknown>): number | undefined;
  streamFrames(answer: MockAnswer, context: MockContext): PlannedFrame[];
  json(answer: MockAnswer, context: MockContext): unknown;
  errorFrame(message: string, sequenceNumber: number): SseFrame;
}

const SERVER_ERROR = { type: 'server_error', code: 'server_error', param: null };

/** The answer's tokens: its text, or every call's arguments. */
export function answerTokens(answer: MockAnswer): number {
  return answer.kind === 'text' ? answer.tokens.length : answer.calls.reduce((sum, call) => sum + call.argumentTokens.length, 0);
}

function chatUsage(answer: MockAnswer, context: MockContext): UsageJson {
  const completionTokens = answerTokens(answer);
  return {
    prompt_tokens: context.promptTokens,
    completion_tokens: completionTokens,
    total_tokens: context.promptTokens + completionTokens,
  };
}

function identity(context: MockContext) {
  return { id: context.id, model: context.model, created: context.created };
}

/** `data: {"error":{…}}`, the in-stream error of chat and legacy completions. */
function dataErrorFrame(message: string): SseFrame {
  return sseEvent({ error: { message, ...SERVER_ERROR } });
}

function lastMessageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : ''))
    .join('');
}

function positiveNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/** The function tools a request allows: the one `tool_choice` names, else every one offered. */
function allowedTools(tools: unknown, toolChoice: unknown, describe: (tool: Record<string, unknown>) => MockTool | undefined): MockTool[] {
  if (!Array.isArray(tools) || toolChoice === 'none') return [];
  const offered = tools.filter(isRecord).map(describe).filter((tool): tool is MockTool => tool !== undefined);
  const forced = isRecord(toolChoice) ? (isRecord(toolChoice.function) ? toolChoice.function.name : toolChoice.name) : undefined;
  const chosen = offered.find((tool) => tool.name === forced);
  return chosen ? [chosen] : offered;
}

/** The items after the last one `isUser` matches. */
function sinceLastUser(items: readonly unknown[], isUser: (item: Record<string, unknown>) => boolean): Record<string, unknown>[] {
  const records = items.filter(isRecord);
  let last = records.length - 1;
  while (last >= 0 && !isUser(records[last])) last--;
  return records.slice(last + 1);
}

/** How many runs of consecutive tool results there are in `items`. */
function toolResultRuns(items: readonly Record<string, unknown>[], isResult: (item: Record<string, unknown>) => boolean): number {
  return items.filter((item, index) => isResult(item) && !(index > 0 && isResult(items[index - 1]))).length;
}

/** The outputs of the tool results at the end of `items`. */
function trailingResults(items: readonly Record<string, unknown>[], isResult: (item: Record<string, unknown>) => boolean, output: (item: Record<string, unknown>) => string): string[] {
  const results: string[] = [];
  for (let index = items.length - 1; index >= 0 && isResult(items[index]); index--) results.unshift(output(items[index]));
  return results;
}

const isChatUser = (message: Record<string, unknown>) => message.role === 'user';
const isChatToolResult = (message: Record<string, unknown>) => message.role === 'tool';
const isResponsesUser = (item: Record<string, unknown>) => item.role === 'user';
const isResponsesToolResult = (item: Record<string, unknown>) => item.type === 'function_call_output';

function chatToolCalls<Args>(calls: readonly MockToolCall[], args: (tokens: string[]) => Args) {
  return calls.map((call) => ({ id: call.callId, name: call.name, arguments: args(call.argumentTokens) }));
}

export const chatEndpoint: MockEndpoint = {
  idPrefix: 'chatcmpl-mock-',
  invalid: (body) => (Array.isArray(body.messages) ? undefined : "'messages' must be an array of messages"),
  prompt(body) {
    const messages = (body.messages as unknown[]).filter(isRecord);
    const user = messages.filter((message) => message.role === 'user').at(-1);
    return user ? lastMessageText(user.content) : '';
  },
  inputText: (body) => (body.messages as unknown[]).map((message) => (isRecord(message) ? lastMessageText(message.content) : '')).join('\n'),
  toolResults: (body) =>
    trailingResults((body.messages as unknown[]).filter(isRecord), isChatToolResult, (message) => lastMessageText(message.content)),
  toolRounds: (body) => toolResultRuns(sinceLastUser(body.messages as unknown[], isChatUser), isChatToolResult),
  tools: (body) =>
    allowedTools(body.tools, body.tool_choice, (tool) =>
      tool.type === 'function' && isRecord(tool.function) && typeof tool.function.name === 'string'
        ? { name: tool.function.name, parameters: tool.function.parameters }
        : undefined,
    ),
  parallelCalls: (body) => body.parallel_tool_calls !== false,
  outputSchema: (body) =>
    isRecord(body.response_format) && body.response_format.type === 'json_schema' && isRecord(body.response_format.json_schema)
      ? (body.response_format.json_schema.schema ?? {})
      : undefined,
  maxTokens: (body) => positiveNumber(body.max_completion_tokens) ?? positiveNumber(body.max_tokens),
  streamFrames(answer, context) {
    const usage = context.includeUsage ? chatUsage(answer, context) : undefined;
    const chunks =
      answer.kind === 'text'
        ? chatStreamChunks({ ...identity(context), content: answer.tokens, finish: answer.finish, usage })
        : chatStreamChunks({ ...identity(context), toolCalls: chatToolCalls(answer.calls, (tokens) => tokens), usage });
    return [
      ...chunks.map((chunk) => ({
        frame: sseEvent(chunk),
        token: chunk.choices.some((choice) => !!choice.delta.content || !!choice.delta.tool_calls?.some((call) => call.function.arguments)),
      })),
      { frame: doneFrame(), token: false },
    ];
  },
  json: (answer, context) =>
    answer.kind === 'text'
      ? chatCompletion({ ...identity(context), content: answer.tokens.join(''), finish: answer.finish, usage: chatUsage(answer, context) })
      : chatCompletion({ ...identity(context), toolCalls: chatToolCalls(answer.calls, (tokens) => tokens.join('')), usage: chatUsage(answer, context) }),
  errorFrame: dataErrorFrame,
};

const completionPrompt = (body: Record<string, unknown>): string =>
  typeof body.prompt === 'string' ? body.prompt : Array.isArray(body.prompt) ? body.prompt.filter((part) => typeof part === 'string').join('\n') : '';

export const completionsEndpoint: MockEndpoint = {
  idPrefix: 'cmpl-mock-',
  invalid: (body) => (typeof body.prompt === 'string' || Array.isArray(body.prompt) ? undefined : "'prompt' must be a string or an array of strings"),
  prompt: completionPrompt,
  inputText: completionPrompt,
  toolResults: () => [],
  toolRounds: () => 0,
  tools: () => [],
  parallelCalls: () => false,
  outputSchema: () => undefined,
  maxTokens: (body) => positiveNumber(body.max_tokens),
  streamFrames(answer, context) {
    const tokens = answer.kind === 'text' ? answer.tokens : [];
    const finish = answer.kind === 'text' ? answer.finish : 'stop';
    const usage = context.includeUsage ? chatUsage(answer, context) : undefined;
    return [
      ...completionStreamChunks({ ...identity(context), text: tokens, finish, usage }).map((chunk) => ({
        frame: sseEvent(chunk),
        token: chunk.choices.some((choice) => choice.text !== ''),
      })),
      { frame: doneFrame(), token: false },
    ];
  },
  json: (answer, context) =>
    completion({
      ...identity(context),
      text: answer.kind === 'text' ? answer.tokens.join('') : '',
      finish: answer.kind === 'text' ? answer.finish : 'stop',
      usage: chatUsage(answer, context),
    }),
  errorFrame: dataErrorFrame,
};

function responseInputItems(body: Record<string, unknown>): Record<string, unknown>[] {
  return Array.isArray(body.input) ? body.input.filter(isRecord) : [];
}

function responseUsageOf(answer: MockAnswer, context: MockContext) {
  const usage = chatUsage(answer, context);
  return responseUsage(usage.prompt_tokens, usage.completion_tokens);
}

function responseIdentity(context: MockContext) {
  return { id: context.id, model: context.model, createdAt: context.created };
}

export const responsesEndpoint: MockEndpoint = {
  idPrefix: 'resp_mock_',
  invalid: (body) => (typeof body.input === 'string' || Array.isArray(body.input) ? undefined : "'input' must be a string or an array of input items"),
  prompt(body) {
    if (typeof body.input === 'string') return body.input;
    const user = responseInputItems(body).filter((item) => item.role === 'user').at(-1);
    return user ? lastMessageText(user.content) : '';
  },
  inputText(body) {
    const instructions = typeof body.instructions === 'string' ? `${body.instructions}\n` : '';
    if (typeof body.input === 'string') return instructions + body.input;
    return instructions + responseInputItems(body).map((item) => lastMessageText(item.content ?? item.output)).join('\n');
  },
  toolResults: (body) => trailingResults(responseInputItems(body), isResponsesToolResult, (item) => lastMessageText(item.output)),
  toolRounds: (body) => toolResultRuns(sinceLastUser(responseInputItems(body), isResponsesUser), isResponsesToolResult),
  tools: (body) =>
    allowedTools(body.tools, body.tool_choice, (tool) =>
      tool.type === 'function' && typeof tool.name === 'string' ? { name: tool.name, parameters: tool.parameters } : undefined,
    ),
  parallelCalls: (body) => body.parallel_tool_calls !== false,
  outputSchema: (body) =>
    isRecord(body.text) && isRecord(body.text.format) && body.text.format.type === 'json_schema' ? (body.text.format.schema ?? {}) : undefined,
  maxTokens: () => undefined,
  streamFrames(answer, context) {
    const frames = responseFrames(
      answer.kind === 'text'
        ? { ...responseIdentity(context), text: answer.tokens, usage: responseUsageOf(answer, context) }
        : {
            ...responseIdentity(context),
            functionCalls: answer.calls.map((call) => ({ name: call.name, callId: call.callId, arguments: call.argumentTokens })),
            usage: responseUsageOf(answer, context),
          },
    );
    return frames.map((frame) => ({ frame, token: frame.type === 'event' && !!frame.event?.endsWith('.delta') }));
  },
  json: (answer, context) =>
    responseObject(
      answer.kind === 'text'
        ? { ...responseIdentity(context), text: answer.tokens.join(''), usage: responseUsageOf(answer, context) }
        : {
            ...responseIdentity(context),
            functionCalls: answer.calls.map((call) => ({ name: call.name, callId: call.callId, arguments: call.argumentTokens.join('') })),
            usage: responseUsageOf(answer, context),
          },
    ),
  errorFrame: (message, sequenceNumber) =>
    sseEvent({ type: 'error', sequence_number: sequenceNumber, code: SERVER_ERROR.code, message, param: null }, { event: 'error' }),
};
