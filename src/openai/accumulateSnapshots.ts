import type { OperatorFunction } from 'rxjs';
import { StreamTruncatedError } from '../errors.js';
import type { CompletionUsage } from './chatTypes.js';
import { IndexedArray } from './growingArray.js';
import { defineOperator } from '../defineOperator.js';

/** Folds one endpoint's stream values into the object a non-streaming request would have returned. */
export interface SnapshotAccumulator<In, Out> {
  add(value: In): void;
  snapshot(): Out;
}

/**
 * The shell every `accumulate…` operator shares: a fresh accumulator per
 * subscription, a snapshot after every value, and a `StreamTruncatedError`
 * re-raised with the last snapshot as `partial` (the original, with the
 * parser's progress as its `partial`, is its `cause`).
 */
export function accumulateSnapshots<In, Out>(
  createAccumulator: () => SnapshotAccumulator<In, Out>,
): OperatorFunction<In, Out> {
  return defineOperator((subscriber) => {
    const accumulator = createAccumulator();
    return {
      next(value) {
        accumulator.add(value);
        subscriber.next(accumulator.snapshot());
      },
      error(error) {
        subscriber.error(
          error instanceof StreamTruncatedError
            ? new StreamTruncatedError<Out>({ message: error.message, partial: accumulator.snapshot(), cause: error })
            : error,
        );
      },
    };
  });
}

interface ChoicesChunk<Choice> {
  id?: string;
  created?: number;
  model?: string;
  system_fingerprint?: string | null;
  choices: ReadonlyArray<Choice>;
}

/** One choice being accumulated; `snapshot()` may return the same object until `add` changes it. */
export interface ChoiceState<Choice, Snapshot> {
  add(choice: Choice): void;
  snapshot(): Snapshot;
}

/** The fields every non-streaming completion with `choices` has (chat, legacy completions). */
export interface ChoicesSnapshot<Kind extends string, Snapshot> {
  id: string;
  object: Kind;
  created: number;
  model: string;
  system_fingerprint?: string;
  choices: Snapshot[];
  usage?: CompletionUsage;
}

/**
 * What the chat and legacy completion accumulators share: the first real
 * `id`, `model` and `created` (Azure's first chunk has them empty and 0), the
 * last system fingerprint and usage, and the choices kept in index order.
 */
export class ChoicesAccumulator<Kind extends string, Chunk extends ChoicesChunk<Choice>, Choice extends { index?: number }, Snapshot>
  implements SnapshotAccumulator<Chunk, ChoicesSnapshot<Kind, Snapshot>>
{
  private id = '';
  private created = 0;
  private model = '';
  private systemFingerprint: string | undefined;
  private usage: CompletionUsage | undefined;
  private readonly states = new Map<number, ChoiceState<Choice, Snapshot>>();
  /** Each choice's latest snapshot, by index; snapshots show versions of it, so a chunk costs what it changed. */
  private readonly choices = new IndexedArray<Snapshot>();

  constructor(
    private readonly kind: Kind,
    private readonly createChoice: (index: number) => ChoiceState<Choice, Snapshot>,
    private readonly usageOf: (chunk: Chunk) => CompletionUsage | null | undefined,
  ) {}

  add(chunk: Chunk): void {
    if (!this.id && chunk.id) this.id = chunk.id;
    if (!this.model && chunk.model) this.model = chunk.model;
    if (!this.created && chunk.created) this.created = chunk.created;
    if (chunk.system_fingerprint) this.systemFingerprint = chunk.system_fingerprint;
    const usage = this.usageOf(chunk);
    if (usage) this.usage = usage;
    for (const choice of chunk.choices) {
      const index = choice.index ?? 0;
      let state = this.states.get(index);
      if (!state) this.states.set(index, (state = this.createChoice(index)));
      state.add(choice);
      this.choices.update(index, () => state.snapshot());
    }
  }

  snapshot(): ChoicesSnapshot<Kind, Snapshot> {
    const completion = { id: this.id, object: this.kind, created: this.created, model: this.model } as ChoicesSnapshot<Kind, Snapshot>;
    this.choices.defineOn(completion, 'choices');
    if (this.systemFingerprint !== undefined) completion.system_fingerprint = this.systemFingerprint;
    if (this.usage) completion.usage = this.usage;
    return completion;
  }
}
