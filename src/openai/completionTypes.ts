import * as z from 'zod/mini';
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
  top_logprobs: z.nullish(z.array(z.nullable(z.catchall(z.object({}), z.number())))),
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

export type CompletionChunk = z.infer<typeof completionChunkSchema>;
export type CompletionChunkChoice = z.infer<typeof completionChunkChoice>;

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

/** Request body for the legacy `/completions`; only the fields openai-rx reads are typed, the rest pass through. */
export interface CompletionCreateParams {
  model: string;
  prompt: string | ReadonlyArray<string> | ReadonlyArray<number> | ReadonlyArray<ReadonlyArray<number>>;
  [field: string]: unknown;
}
