import type { OperatorFunction } from 'rxjs';
import { accumulateSnapshots, ChoicesAccumulator, type ChoiceState } from './accumulateSnapshots.js';
import type { Completion, CompletionChoice, CompletionChunk, CompletionChunkChoice, CompletionLogprobs } from './completionTypes.js';
import { arraysOf, GrowingArray } from './growingArray.js';

/**
 * Legacy completion chunks → a snapshot of the whole completion after every
 * chunk, shaped like a non-streaming `Completion`; the last one is the final
 * result. Legacy logprobs are concatenated array by array. Each snapshot is a
 * new object, and a choice is rebuilt only when a chunk changed it; choices
 * are kept in a versioned array and logprobs in stores the snapshots share,
 * each snapshot's arrays copied out when first read, so the cost per chunk is
 * that of what it brought, however long the answer and however many choices.
 *
 * If the stream is cut short, the `StreamTruncatedError` carries the last
 * snapshot as `partial`.
 *
 * @example
 * const final = await lastValueFrom(client.completions.stream({ model, prompt }).pipe(accumulateCompletion()));
 */
export function accumulateCompletion(): OperatorFunction<CompletionChunk, Completion> {
  return accumulateSnapshots(
    () =>
      new ChoicesAccumulator<'text_completion', CompletionChunk, CompletionChunkChoice, CompletionChoice>(
        'text_completion',
        (index) => new CompletionChoiceState(index),
        (chunk) => chunk.usage,
      ),
  );
}

class CompletionChoiceState implements ChoiceState<CompletionChunkChoice, CompletionChoice> {
  private text = '';
  private finishReason: string | null = null;
  private logprobs: { [K in keyof CompletionLogprobs]: GrowingArray<CompletionLogprobs[K][number]> } | null = null;
  private logprobsView: CompletionLogprobs | null = null;
  private cached: CompletionChoice | undefined;

  constructor(readonly index: number) {}

  add(choice: CompletionChunkChoice): void {
    this.cached = undefined;
    if (choice.text) this.text += choice.text;
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    const logprobs = choice.logprobs;
    if (logprobs) {
      const previous = this.logprobs ?? {
        tokens: GrowingArray.from(),
        token_logprobs: GrowingArray.from(),
        top_logprobs: GrowingArray.from(),
        text_offset: GrowingArray.from(),
      };
      this.logprobs = {
        tokens: previous.tokens.concat(logprobs.tokens ?? []),
        token_logprobs: previous.token_logprobs.concat(logprobs.token_logprobs ?? []),
        top_logprobs: previous.top_logprobs.concat(logprobs.top_logprobs ?? []),
        text_offset: previous.text_offset.concat(logprobs.text_offset ?? []),
      };
      this.logprobsView = arraysOf(this.logprobs);
    }
  }

  snapshot(): CompletionChoice {
    this.cached ??= { index: this.index, text: this.text, finish_reason: this.finishReason, logprobs: this.logprobsView };
    return this.cached;
  }
}
