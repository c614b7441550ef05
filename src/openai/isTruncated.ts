import { StreamTruncatedError } from '../errors.js';
import { isRecord } from '../sse/httpErrors.js';
import type { ChatCompletion } from './chatTypes.js';
import type { ChoiceStreamProgress } from './jsonEvents.js';
import type { Completion } from './completionTypes.js';
import type { ResponseStreamProgress } from './responseEvents.js';
import type { Response } from './responseTypes.js';

/** What `StreamTruncatedError#partial` holds, by the stage that raised the error. */
export interface TruncatedPartials {
  /** The body ended in the middle of an SSE event: the cut text. Any pipeline can end this way. */
  sseFrames: string;
  /** `chatChunks()` (and `client.chat.completions.stream()`): chunks counted, choices left unfinished. */
  chatChunks: ChoiceStreamProgress;
  /** `completionChunks()`: the same shape as `chatChunks`'s, so either name matches both. */
  completionChunks: ChoiceStreamProgress;
  /** `responseEvents()` (and `client.responses.stream()`): events counted, the response as last described. */
  responseEvents: ResponseStreamProgress;
  /** The last snapshot of `accumulateChatCompletion()`. */
  accumulateChatCompletion: ChatCompletion;
  /** The last snapshot of `accumulateCompletion()`. */
  accumulateCompletion: Completion;
  /** The last snapshot of `accumulateResponse()`. */
  accumulateResponse: Response;
}

const isChoiceProgress = (partial: unknown) =>
  isRecord(partial) && typeof partial.chunks === 'number' && Array.isArray(partial.unfinishedChoices);

const partialChecks: { readonly [K in keyof TruncatedPartials]: (partial: unknown) => boolean } = {
  sseFrames: (partial) => typeof partial === 'string',
  chatChunks: isChoiceProgress,
  completionChunks: isChoiceProgress,
  responseEvents: (partial) => isRecord(partial) && typeof partial.events === 'number',
  accumulateChatCompletion: (partial) => isRecord(partial) && partial.object === 'chat.completion',
  accumulateCompletion: (partial) => isRecord(partial) && partial.object === 'text_completion',
  // A server may leave `object` out of a response; no progress or other snapshot has `output`.
  accumulateResponse: (partial) => isRecord(partial) && typeof partial.id === 'string' && Array.isArray(partial.output),
};

/**
 * `true` when `error` is a `StreamTruncatedError` whose `partial` is what
 * `from` leaves: after it, `error.partial` has that type. The check reads the
 * partial's shape, so it is right whichever stage actually raised the error
 * (a body cut mid-event is `sseFrames`'s, whatever the pipeline).
 *
 * @example
 * catchError((error: unknown) => {
 *   if (isTruncated(error, 'accumulateChatCompletion')) keepDraft(error.partial.choices[0]?.message.content);
 *   return EMPTY;
 * })
 */
export function isTruncated<K extends keyof TruncatedPartials>(
  error: unknown,
  from: K,
): error is StreamTruncatedError<TruncatedPartials[K]> {
  return error instanceof StreamTruncatedError && partialChecks[from](error.partial);
}
