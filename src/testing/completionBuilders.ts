import type { SseEventFrame } from '../sse/types.js';
import { chunkHead, isDeltaList, type ChunkIdentity, type ObjectHeadJson, type UsageJson } from './chatBuilders.js';
import { doneFrame, sseEvent } from './sseBuilders.js';

export type CompletionChoiceJson = { text: string; index: number; logprobs: null; finish_reason: string | null };
/** A legacy `/completions` object; streamed chunks and the non-streaming answer share the shape. */
export type CompletionJson = ObjectHeadJson<'text_completion'> & {
  choices: CompletionChoiceJson[];
  usage?: UsageJson;
};

export interface CompletionStreamInit extends ChunkIdentity {
  /** The text deltas, one chunk each. */
  text: readonly string[];
  /** Default `stop`. */
  finish?: string;
  /** Adds a final usage chunk (`choices: []`). */
  usage?: UsageJson;
}

function base(init: ChunkIdentity): Omit<CompletionJson, 'choices'> {
  return chunkHead(init, 'text_completion', 'cmpl-test');
}

/**
 * One legacy completion chunk; a string is its text.
 *
 * @example
 * cold('a-(b|)', { a: completionChunk('Hel'), b: completionChunk({ text: 'lo', finish: 'stop' }) });
 */
export function completionChunk(init: string | (ChunkIdentity & { text?: string; finish?: string | null; index?: number })): CompletionJson {
  const fields = typeof init === 'string' ? { text: init } : init;
  return {
    ...base(fields),
    choices: [{ text: fields.text ?? '', index: fields.index ?? 0, logprobs: null, finish_reason: fields.finish ?? null }],
  };
}

/** Every chunk of a streamed legacy completion: the deltas, an empty finishing chunk and, if asked, usage. */
export function completionStreamChunks(init: CompletionStreamInit | readonly string[]): CompletionJson[] {
  const stream: CompletionStreamInit = isDeltaList(init) ? { text: init } : init;
  const chunks = stream.text.map((text) => completionChunk({ ...stream, text }));
  chunks.push(completionChunk({ ...stream, text: '', finish: stream.finish ?? 'stop' }));
  if (stream.usage) chunks.push({ ...base(stream), choices: [], usage: stream.usage });
  return chunks;
}

/** The frames of a whole streamed legacy completion, `[DONE]` included. */
export function completionFrames(init: CompletionStreamInit | readonly string[]): SseEventFrame[] {
  return [...completionStreamChunks(init).map((chunk) => sseEvent(chunk)), doneFrame()];
}

/** A non-streaming legacy completion. */
export function completion(init: ChunkIdentity & { text: string; finish?: string; usage?: UsageJson }): CompletionJson {
  return {
    ...base(init),
    choices: [{ text: init.text, index: 0, logprobs: null, finish_reason: init.finish ?? 'stop' }],
    usage: init.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  };
}
