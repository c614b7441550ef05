import * as z from './schema.js';

/*
 * Schemas for streamed chat completion chunks. Loose on purpose: every object
 * keeps the fields providers add (Azure's filter results, Groq's x_groq,
 * OpenRouter's provider, llama.cpp's timings), and only what would make the
 * accumulated result wrong is rejected (a `choices` that is not an array, text
 * that is not a string).
 *
 * Built with ./schema.ts (zod core, no default locale): the classic `zod` API
 * would add ~20 KB min+gzip to every browser bundle (bench/bundle-size.ts).
 */

export const nullableString = z.nullish(z.string());

/**
 * Where a provider places a choice, tool call, output item or part: a
 * non-negative integer (`0.5` or `-1` would make a separate entry or lose text).
 * Entries are stored in index order without holes, so a huge index costs nothing.
 */
export const indexSchema = z.custom<number>(
  (value) => Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 0xffff_ffff,
  'expected an index (an integer from 0)',
);

const tokenLogprob = z.looseObject({
  token: z.string(),
  logprob: z.number(),
});

const choiceLogprobs = z.looseObject({
  content: z.nullish(z.array(tokenLogprob)),
  refusal: z.nullish(z.array(tokenLogprob)),
});

const toolCallDelta = z.looseObject({
  index: z.optional(indexSchema),
  id: nullableString,
  type: nullableString,
  function: z.nullish(
    z.looseObject({
      name: nullableString,
      arguments: nullableString,
    }),
  ),
  /** A custom tool's call (`type: 'custom'`): free-text `input` instead of JSON `arguments`. */
  custom: z.nullish(
    z.looseObject({
      name: nullableString,
      input: nullableString,
    }),
  ),
});

const chunkDelta = z.looseObject({
  role: nullableString,
  content: nullableString,
  refusal: nullableString,
  reasoning_content: nullableString,
  reasoning: nullableString,
  tool_calls: z.nullish(z.array(toolCallDelta)),
});

const chunkChoice = z.looseObject({
  index: z.optional(indexSchema),
  delta: z.nullish(chunkDelta),
  finish_reason: nullableString,
  logprobs: z.nullish(choiceLogprobs),
});

export const completionUsageSchema = z.looseObject({
  prompt_tokens: z.optional(z.number()),
  completion_tokens: z.optional(z.number()),
  total_tokens: z.optional(z.number()),
});

/** The identity fields every streamed chunk carries (chat and legacy), all optional: Azure sends them empty. */
export const chunkIdentityFields = {
  id: z.optional(z.string()),
  object: z.optional(z.string()),
  created: z.optional(z.number()),
  model: z.optional(z.string()),
  system_fingerprint: nullableString,
};

export const chatCompletionChunkSchema = z.looseObject({
  ...chunkIdentityFields,
  choices: z.array(chunkChoice),
  usage: z.nullish(completionUsageSchema),
  x_groq: z.nullish(z.looseObject({ usage: z.nullish(completionUsageSchema) })),
});

/*
 * The exported types name exactly the fields the schemas above validate, each
 * with the type it was checked to have, and nothing else: no index signature,
 * so `chunk.choises` or `delta.contnet` does not compile. Every other field a
 * provider sent is still on the object at run time; `extras(value)` reaches it.
 * spec/types/schemaConformance.ts proves that these types and the schemas agree.
 */

/** One streamed piece of a chat completion. Fields the provider added are kept: read them through `extras(chunk)`. */
export interface ChatCompletionChunk {
  /** The completion's id, the same on every chunk (empty on Azure's first chunk). */
  id?: string;
  /** `chat.completion.chunk` from OpenAI; some providers send it empty. */
  object?: string;
  /** Unix time in seconds when the completion was created (0 on Azure's first chunk). */
  created?: number;
  /** The model that answered. */
  model?: string;
  system_fingerprint?: string | null;
  /**
   * One entry per choice that changed (`n` > 1 gives several). Empty on the
   * usage chunk that `stream_options: { include_usage: true }` adds, and on
   * Azure's first chunk.
   */
  choices: ChatCompletionChunkChoice[];
  /** Token counts: on the last chunk when `stream_options.include_usage` is set, `null` before. */
  usage?: CompletionUsage | null;
  /** Groq's own object; its `usage` is where Groq reports token counts. */
  x_groq?: { usage?: CompletionUsage | null } | null;
}

/** What one chunk adds to one choice. Azure's `content_filter_results` are reached through `extras(choice)`. */
export interface ChatCompletionChunkChoice {
  /** Which choice this is; providers that answer with one choice may leave it out (read as 0). */
  index?: number;
  delta?: ChatCompletionChunkDelta | null;
  /**
   * Set on the choice's last chunk: `stop` (a natural end or a stop sequence),
   * `length` (max tokens reached), `tool_calls`, `content_filter`, or a
   * provider's own reason; `null` or absent before.
   */
  finish_reason?: string | null;
  logprobs?: ChatCompletionChunkLogprobs | null;
}

/** The text and calls one chunk adds to a choice's message: append each string to what came before. */
export interface ChatCompletionChunkDelta {
  /** `assistant`, on the first chunk of a choice. */
  role?: string | null;
  /** The next piece of the answer's text. */
  content?: string | null;
  /** The next piece of a refusal's text. */
  refusal?: string | null;
  /** Reasoning text as DeepSeek, llama.cpp and vLLM spell it … */
  reasoning_content?: string | null;
  /** … and as Groq, OpenRouter and Ollama do. */
  reasoning?: string | null;
  /** Fragments of tool calls; `toolCallDeltas()` and `accumulateChatCompletion()` put them together. */
  tool_calls?: ChatCompletionToolCallDelta[] | null;
}

/** One fragment of a streamed tool call: `id`, `type` and the name come first, the arguments in pieces. */
export interface ChatCompletionToolCallDelta {
  /** Position of the call in the message's `tool_calls` (some providers leave it out: see `toolCallDeltas()`). */
  index?: number;
  id?: string | null;
  /** `function`, or `custom` for a custom tool. */
  type?: string | null;
  function?: {
    name?: string | null;
    /** The next piece of the arguments, JSON as a whole. */
    arguments?: string | null;
  } | null;
  /** A custom tool's call (`type: 'custom'`): free-text `input` instead of JSON `arguments`. */
  custom?: {
    name?: string | null;
    /** The next piece of the input. */
    input?: string | null;
  } | null;
}

/** The log probabilities of the tokens one chunk adds. */
export interface ChatCompletionChunkLogprobs {
  content?: ChatCompletionTokenLogprob[] | null;
  refusal?: ChatCompletionTokenLogprob[] | null;
}

/** A token and its log probability; OpenAI's `bytes` and `top_logprobs` are reached through `extras(logprob)`. */
export interface ChatCompletionTokenLogprob {
  token: string;
  logprob: number;
}

/** Token counts of a request; providers add their own details (reached through `extras(usage)`). */
export interface CompletionUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
}

/** What {@link accumulateChatCompletion} emits: shaped like a non-streaming chat completion. */
export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint?: string;
  choices: ChatCompletionChoice[];
  usage?: CompletionUsage;
}

export interface ChatCompletionChoice {
  index: number;
  message: ChatCompletionMessage;
  finish_reason: string | null;
  logprobs: { content: ChatCompletionTokenLogprob[] | null; refusal: ChatCompletionTokenLogprob[] | null } | null;
}

export interface ChatCompletionMessage {
  role: string;
  content: string | null;
  refusal: string | null;
  tool_calls?: ChatCompletionMessageToolCall[];
  /** DeepSeek, llama.cpp and vLLM spell reasoning text this way … */
  reasoning_content?: string;
  /** … Groq, OpenRouter and Ollama this way. Each is kept under the name the provider used. */
  reasoning?: string;
}

/** A tool call of the accumulated message: narrow it by `type`. Fields openai-rx does not know are kept: see `extras(call)`. */
export type ChatCompletionMessageToolCall = ChatCompletionMessageFunctionToolCall | ChatCompletionMessageCustomToolCall;

export interface ChatCompletionMessageFunctionToolCall {
  id: string;
  type: 'function';
  function: {
    name: string;
    /** JSON as the model wrote it: parse it, and check it against the tool's schema, before use. */
    arguments: string;
  };
  custom?: never;
}

/** The call of a custom tool: its `input` is free text (or text in the tool's grammar), not JSON. */
export interface ChatCompletionMessageCustomToolCall {
  id: string;
  type: 'custom';
  custom: { name: string; input: string };
  function?: never;
}

export type { ChatCompletionCreateParams } from './chatParams.js';
