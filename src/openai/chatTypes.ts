import { z } from 'zod';

/*
 * Schemas for streamed chat completion chunks. Loose on purpose: every object
 * keeps the fields providers add (Azure's filter results, Groq's x_groq,
 * OpenRouter's provider, llama.cpp's timings), and only what would make the
 * accumulated result wrong is rejected (a `choices` that is not an array, text
 * that is not a string).
 */

const nullableString = z.string().nullish();

const tokenLogprob = z.looseObject({
  token: z.string(),
  logprob: z.number(),
});

const choiceLogprobs = z.looseObject({
  content: z.array(tokenLogprob).nullish(),
  refusal: z.array(tokenLogprob).nullish(),
});

const toolCallDelta = z.looseObject({
  index: z.number().optional(),
  id: nullableString,
  type: nullableString,
  function: z
    .looseObject({
      name: nullableString,
      arguments: nullableString,
    })
    .nullish(),
});

const chunkDelta = z.looseObject({
  role: nullableString,
  content: nullableString,
  refusal: nullableString,
  reasoning_content: nullableString,
  reasoning: nullableString,
  tool_calls: z.array(toolCallDelta).nullish(),
});

const chunkChoice = z.looseObject({
  index: z.number().optional(),
  delta: chunkDelta.nullish(),
  finish_reason: nullableString,
  logprobs: choiceLogprobs.nullish(),
});

export const completionUsageSchema = z.looseObject({
  prompt_tokens: z.number().optional(),
  completion_tokens: z.number().optional(),
  total_tokens: z.number().optional(),
});

export const chatCompletionChunkSchema = z.looseObject({
  id: z.string().optional(),
  object: z.string().optional(),
  created: z.number().optional(),
  model: z.string().optional(),
  system_fingerprint: nullableString,
  choices: z.array(chunkChoice),
  usage: completionUsageSchema.nullish(),
  x_groq: z.looseObject({ usage: completionUsageSchema.nullish() }).nullish(),
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

export interface ChatCompletionMessageToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** Request body for `/chat/completions`; only the fields openai-rx reads are typed, the rest pass through. */
export interface ChatCompletionCreateParams {
  model: string;
  messages: ReadonlyArray<Record<string, unknown>>;
  [field: string]: unknown;
}
