import * as z from 'zod/mini';

/*
 * Schemas for streamed chat completion chunks. Loose on purpose: every object
 * keeps the fields providers add (Azure's filter results, Groq's x_groq,
 * OpenRouter's provider, llama.cpp's timings), and only what would make the
 * accumulated result wrong is rejected (a `choices` that is not an array, text
 * that is not a string).
 *
 * Built with `zod/mini` (functional API, no default locale): the classic `zod`
 * API would add ~20 KB min+gzip to every browser bundle (bench/bundle-size.ts).
 */

export const nullableString = z.nullish(z.string());

/**
 * Where a provider places a choice, tool call, output item or part: a
 * non-negative integer (`0.5` or `-1` would make a separate entry or lose text).
 * Entries are stored in index order without holes, so a huge index costs nothing.
 */
export const indexSchema = z.uint32();

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

export type ChatCompletionChunk = z.infer<typeof chatCompletionChunkSchema>;
export type ChatCompletionChunkChoice = z.infer<typeof chunkChoice>;
export type ChatCompletionChunkDelta = z.infer<typeof chunkDelta>;
export type ChatCompletionToolCallDelta = z.infer<typeof toolCallDelta>;
export type ChatCompletionTokenLogprob = z.infer<typeof tokenLogprob>;
export type CompletionUsage = z.infer<typeof completionUsageSchema>;

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

/** A tool call of the accumulated message: narrow it by `type`. Fields openai-rx does not know are kept. */
export type ChatCompletionMessageToolCall = ChatCompletionMessageFunctionToolCall | ChatCompletionMessageCustomToolCall;

export interface ChatCompletionMessageFunctionToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string; [field: string]: unknown };
  [field: string]: unknown;
}

/** The call of a custom tool: its `input` is free text (or text in the tool's grammar), not JSON. */
export interface ChatCompletionMessageCustomToolCall {
  id: string;
  type: 'custom';
  custom: { name: string; input: string; [field: string]: unknown };
  [field: string]: unknown;
}

/** Request body for `/chat/completions`; only the fields openai-rx reads are typed, the rest pass through. */
export interface ChatCompletionCreateParams {
  model: string;
  messages: ReadonlyArray<Record<string, unknown>>;
  [field: string]: unknown;
}
