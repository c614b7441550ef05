import * as z from './schema.js';
import type { ChatCompletionStreamOptions } from './chatParams.js';
import { chunkIdentityFields, completionUsageSchema, indexSchema, nullableString, type CompletionUsage } from './chatTypes.js';

/*
 * Schemas for the legacy `/completions` stream. Loose like the chat schemas:
 * Azure's `prompt_filter_results` and `content_filter_results`, vLLM's and
 * llama.cpp's extra fields are kept; only what would make the accumulated
 * text wrong is rejected.
 */

/** The legacy logprobs shape: parallel arrays, one entry per token. */
const legacyLogprobs = z.looseObject({
  tokens: z.nullish(z.array(z.string())),
  /** `null` for the first token of an echoed prompt. */
  token_logprobs: z.nullish(z.array(z.nullable(z.number()))),
  /** token → logprob; a catch-all object rather than `z.record`, which costs ~0.5 KB min+gzip in browser bundles. */
  top_logprobs: z.nullish(z.array(z.nullable(z.catchall({}, z.number())))),
  text_offset: z.nullish(z.array(z.number())),
});

const completionChunkChoice = z.looseObject({
  index: z.optional(indexSchema),
  text: nullableString,
  finish_reason: nullableString,
  logprobs: z.nullish(legacyLogprobs),
});

export const completionChunkSchema = z.looseObject({
  ...chunkIdentityFields,
  choices: z.array(completionChunkChoice),
  usage: z.nullish(completionUsageSchema),
});

/** One streamed piece of a legacy completion. Fields the provider added are kept: read them through `extras(chunk)`. */
export interface CompletionChunk {
  id?: string;
  /** `text_completion` from OpenAI; some providers send it empty. */
  object?: string;
  /** Unix time in seconds when the completion was created. */
  created?: number;
  model?: string;
  system_fingerprint?: string | null;
  /** One entry per choice that changed; empty on the usage chunk and on Azure's first chunk. */
  choices: CompletionChunkChoice[];
  /** Token counts: on the last chunk when `stream_options.include_usage` is set. */
  usage?: CompletionUsage | null;
}

/** What one chunk adds to one choice. */
export interface CompletionChunkChoice {
  /** Which choice this is; read as 0 when left out. */
  index?: number;
  /** The next piece of the choice's text. */
  text?: string | null;
  /** Set on the choice's last chunk: `stop`, `length`, `content_filter`, or a provider's own reason. */
  finish_reason?: string | null;
  logprobs?: CompletionChunkLogprobs | null;
}

/** The legacy logprobs shape: parallel arrays, one entry per token. */
export interface CompletionChunkLogprobs {
  tokens?: string[] | null;
  /** `null` for the first token of an echoed prompt. */
  token_logprobs?: Array<number | null> | null;
  /** Token → logprob of the most likely tokens at each position. */
  top_logprobs?: Array<Record<string, number> | null> | null;
  /** The character offset of each token in the text. */
  text_offset?: number[] | null;
}

/** Legacy logprobs of a whole choice: each array concatenated across the chunks. */
export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: Array<number | null>;
  top_logprobs: Array<Record<string, number> | null>;
  text_offset: number[];
}

/** What {@link accumulateCompletion} emits: shaped like a non-streaming legacy completion. */
export interface Completion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  system_fingerprint?: string;
  choices: CompletionChoice[];
  usage?: CompletionUsage;
}

export interface CompletionChoice {
  index: number;
  text: string;
  finish_reason: string | null;
  logprobs: CompletionLogprobs | null;
}

/** Request body for the legacy `/completions`. openai-rx sets `stream: true` itself. */
export interface CompletionCreateParams {
  /** The model's id, e.g. `gpt-3.5-turbo-instruct`. */
  model: string;
  /** The text to continue: a string, several strings, or token ids. */
  prompt: string | ReadonlyArray<string> | ReadonlyArray<number> | ReadonlyArray<ReadonlyArray<number>> | null;
  /** The most tokens to generate. */
  max_tokens?: number | null;
  /** Sampling temperature, 0 to 2: higher is more random. Change this or `top_p`, not both. */
  temperature?: number | null;
  /** Nucleus sampling: only the tokens within this probability mass are considered. */
  top_p?: number | null;
  /** How many completions to generate for each prompt. */
  n?: number | null;
  /** Up to 4 sequences where generation stops. */
  stop?: string | ReadonlyArray<string> | null;
  /** Text that comes after the completion (insertion). */
  suffix?: string | null;
  /** Echo the prompt back before the completion. */
  echo?: boolean | null;
  /** The log probabilities of this many most likely tokens at each position (at most 5). */
  logprobs?: number | null;
  /** Generate this many completions on the server and return the best (not with streaming on OpenAI). */
  best_of?: number | null;
  /** -2 to 2: positive values penalize tokens that already appeared, by how often. */
  frequency_penalty?: number | null;
  /** -2 to 2: positive values penalize tokens that already appeared at all. */
  presence_penalty?: number | null;
  /** Token id → bias from -100 to 100 added to its logit. */
  logit_bias?: Readonly<Record<string, number>> | null;
  /** Best-effort determinism: the same seed and parameters should give the same answer. */
  seed?: number | null;
  stream_options?: ChatCompletionStreamOptions | null;
  /** Sent as `true` whatever it says here: every request openai-rx makes streams. */
  stream?: boolean | null;
  /** A stable id for your end user, used to detect abuse. */
  user?: string;
}
