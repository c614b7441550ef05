import { catchError, EMPTY, type Observable } from 'rxjs';
import {
  accumulateChatCompletion,
  isTruncated,
  StreamTruncatedError,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChoiceStreamProgress,
  type Response,
  type ResponseStreamProgress,
} from '../../src/api';
import { assertType, type Equal } from './expect';

/*
 * `isTruncated(error, stage)` types `partial` as that stage leaves it, checked at run time. `instanceof`
 * alone leaves it `any` (TypeScript narrows to a generic class with `any` type arguments).
 */

export function partialByStage(error: unknown): void {
  if (error instanceof StreamTruncatedError) assertType<Equal<typeof error.partial, any>>();
  if (isTruncated(error, 'chatChunks')) assertType<Equal<typeof error.partial, ChoiceStreamProgress>>();
  if (isTruncated(error, 'accumulateChatCompletion')) assertType<Equal<typeof error.partial, ChatCompletion>>();
  if (isTruncated(error, 'responseEvents')) assertType<Equal<typeof error.partial, ResponseStreamProgress>>();
  if (isTruncated(error, 'accumulateResponse')) assertType<Equal<typeof error.partial, Response>>();
  if (isTruncated(error, 'sseFrames')) assertType<Equal<typeof error.partial, string>>();
  // @ts-expect-error not a stage that raises StreamTruncatedError
  isTruncated(error, 'contentDeltas');
}

export function keepTheDraft(chunks$: Observable<ChatCompletionChunk>, keep: (text: string | null) => void): Observable<ChatCompletion> {
  return chunks$.pipe(
    accumulateChatCompletion(),
    catchError((error: unknown) => {
      if (isTruncated(error, 'accumulateChatCompletion')) keep(error.partial.choices[0]?.message.content ?? null);
      // @ts-expect-error progress has no choices: the stage's name decides the type
      if (isTruncated(error, 'chatChunks')) keep(error.partial.choices[0].message.content);
      return EMPTY;
    }),
  );
}
