import type { SseEventFrame } from '../sse/types.js';
import { doneFrame, sseEvent } from './sseBuilders.js';

/*
 * JSON shapes as OpenAI sends them. They are type aliases, not interfaces, so
 * that they are assignable to the library's lenient chunk types.
 */
export type UsageJson = { prompt_tokens: number; completion_tokens: number; total_tokens: number };
export type ChatToolCallDeltaJson = {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments: string };
};
export type ChatDeltaJson = {
  role?: string;
  content?: string | null;
  refusal?: string | null;
  reasoning_content?: string;
  tool_calls?: ChatToolCallDeltaJson[];
};
export type ChatChunkChoiceJson = { index: number; delta: ChatDeltaJson; logprobs: null; finish_reason: string | null };
/** The leading fields every chunk and completion object has. */
export type ObjectHeadJson<O extends string> = { id: string; object: O; created: number; model: string };
export type ChatChunkJson = ObjectHeadJson<'chat.completion.chunk'> & {
  system_fingerprint: string | null;
  choices: ChatChunkChoiceJson[];
  usage?: UsageJson;
};
export type ChatToolCallJson = { id: string; type: 'function'; function: { name: string; arguments: string } };
export type ChatCompletionJson = ObjectHeadJson<'chat.completion'> & {
  system_fingerprint: string | null;
  choices: Array<{
    index: number;
    message: { role: 'assistant'; content: string | null; refusal: null; tool_calls?: ChatToolCallJson[] };
    logprobs: null;
    finish_reason: string;
  }>;
  usage: UsageJson;
};

/** The fields every chunk of one response shares; builders fill in fixed values when absent. */
export interface ChunkIdentity {
  id?: string;
  model?: string;
  /** Unix seconds. */
  created?: number;
}

export interface ChatToolCallFragment {
  /** Position in `tool_calls`; defaults to the fragment's position in the list. */
  index?: number;
  id?: string;
  name?: string;
  arguments?: string;
}

export interface ChatChunkInit extends ChunkIdentity {
  content?: string | null;
  role?: string;
  /** Sent as `reasoning_content` (DeepSeek, vLLM, llama.cpp). */
  reasoning?: string;
  toolCalls?: readonly ChatToolCallFragment[];
  finish?: string | null;
  /** The choice index; default 0. */
  choice?: number;
}

export interface ChatStreamInit extends ChunkIdentity {
  /** The answer's text deltas, one chunk each. */
  content?: readonly string[];
  /** Tool calls, each streamed as a head chunk (id, name) and one chunk per arguments fragment. */
  toolCalls?: ReadonlyArray<{ id?: string; name: string; arguments: readonly string[] }>;
  /** Default `tool_calls` when there are tool calls, else `stop`. */
  finish?: string;
  /** Adds the final usage chunk (`choices: []`) that `stream_options.include_usage` asks for. */
  usage?: UsageJson;
}

/** `created` of built chunks when none is given. */
export const DEFAULT_CREATED = 1_700_000_000;

/** The leading fields in OpenAI's order: `id`, `object`, `created`, `model`. */
export function chunkHead<O extends string>(init: ChunkIdentity, object: O, fallbackId: string): ObjectHeadJson<O> {
  return { id: init.id ?? fallbackId, object, created: init.created ?? DEFAULT_CREATED, model: init.model ?? 'test-model' };
}

/**
 * One chat completion chunk; a string is its content delta.
 *
 * @example
 * cold('a-b-(c|)', { a: chatChunk('Hel'), b: chatChunk('lo'), c: chatChunk({ finish: 'stop' }) });
 */
export function chatChunk(init: string | ChatChunkInit = {}): ChatChunkJson {
  const fields = typeof init === 'string' ? { content: init } : init;
  const delta: ChatDeltaJson = {};
  if (fields.role !== undefined) delta.role = fields.role;
  if (fields.content !== undefined) delta.content = fields.content;
  if (fields.reasoning !== undefined) delta.reasoning_content = fields.reasoning;
  if (fields.toolCalls) {
    delta.tool_calls = fields.toolCalls.map((call, position) => {
      const json: ChatToolCallDeltaJson = { index: call.index ?? position, function: { arguments: call.arguments ?? '' } };
      if (call.id !== undefined) {
        json.id = call.id;
        json.type = 'function';
      }
      if (call.name !== undefined) json.function = { name: call.name, arguments: json.function.arguments };
      return json;
    });
  }
  return {
    ...chunkHead(fields, 'chat.completion.chunk', 'chatcmpl-test'),
    system_fingerprint: null,
    choices: [{ index: fields.choice ?? 0, delta, logprobs: null, finish_reason: fields.finish ?? null }],
  };
}

/** The last chunk of a stream with `include_usage`: no choices, only usage. */
export function chatUsageChunk(usage: UsageJson, init: ChunkIdentity = {}): ChatChunkJson {
  return {
    ...chunkHead(init, 'chat.completion.chunk', 'chatcmpl-test'),
    system_fingerprint: null,
    choices: [],
    usage,
  };
}

/**
 * Every chunk of a streamed answer, shaped as OpenAI streams it: a role chunk,
 * the deltas, the finish chunk and, if asked, the usage chunk.
 *
 * @example
 * chatStreamChunks(['Hel', 'lo']).map((chunk) => chunk.choices[0]?.delta.content); // ['', 'Hel', 'lo', undefined]
 */
export function chatStreamChunks(init: ChatStreamInit | readonly string[]): ChatChunkJson[] {
  const stream: ChatStreamInit = isDeltaList(init) ? { content: init } : init;
  const { id, created, model } = chunkHead(stream, 'chat.completion.chunk', 'chatcmpl-test');
  const shared: ChunkIdentity = { id, created, model };
  const toolCalls = stream.toolCalls ?? [];
  const chunks: ChatChunkJson[] = [];
  let role: string | undefined = 'assistant';
  if (stream.content || toolCalls.length === 0) {
    chunks.push(chatChunk({ ...shared, role, content: '' }));
    role = undefined;
    for (const content of stream.content ?? []) chunks.push(chatChunk({ ...shared, content }));
  }
  toolCalls.forEach((call, index) => {
    const head = { index, id: call.id ?? `call_test_${index}`, name: call.name, arguments: '' };
    chunks.push(chatChunk(role ? { ...shared, role, content: null, toolCalls: [head] } : { ...shared, toolCalls: [head] }));
    role = undefined;
    for (const fragment of call.arguments) chunks.push(chatChunk({ ...shared, toolCalls: [{ index, arguments: fragment }] }));
  });
  chunks.push(chatChunk({ ...shared, finish: stream.finish ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop') }));
  if (stream.usage) chunks.push(chatUsageChunk(stream.usage, shared));
  return chunks;
}

/**
 * The frames of a whole streamed answer, `[DONE]` included.
 *
 * @example
 * scriptedTransport({ body: sseText(chatFrames(['Hel', 'lo'])) });
 */
export function chatFrames(init: ChatStreamInit | readonly string[]): SseEventFrame[] {
  return [...chatStreamChunks(init).map((chunk) => sseEvent(chunk)), doneFrame()];
}

/** A non-streaming chat completion, as `stream: false` returns it. */
export function chatCompletion(
  init: ChunkIdentity & {
    content?: string | null;
    toolCalls?: ReadonlyArray<{ id?: string; name: string; arguments: string }>;
    finish?: string;
    usage?: UsageJson;
  },
): ChatCompletionJson {
  const message: ChatCompletionJson['choices'][number]['message'] = {
    role: 'assistant',
    content: init.content ?? null,
    refusal: null,
  };
  const toolCalls = init.toolCalls ?? [];
  if (toolCalls.length > 0) {
    message.tool_calls = toolCalls.map((call, index) => ({
      id: call.id ?? `call_test_${index}`,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
  }
  return {
    ...chunkHead(init, 'chat.completion', 'chatcmpl-test'),
    system_fingerprint: null,
    choices: [{ index: 0, message, logprobs: null, finish_reason: init.finish ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop') }],
    usage: init.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  };
}

export function isDeltaList(value: unknown): value is readonly string[] {
  return Array.isArray(value);
}
