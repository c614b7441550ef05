import type { OperatorFunction } from 'rxjs';
import { StreamTruncatedError } from '../errors.js';
import type { CompletionUsage } from './chatTypes.js';
import { operate } from './operate.js';

/** Folds one endpoint's stream values into the object a non-streaming request would have returned. */
export interface SnapshotAccumulator<In, Out> {
  add(value: In): void;
  snapshot(): Out;
}

/**
 * The shell every `accumulate…` operator shares: a fresh accumulator per
 * subscription, a snapshot after every value, and a `StreamTruncatedError`
 * re-raised with the last snapshot as `partial`.
 */
export function accumulateSnapshots<In, Out>(
  createAccumulator: () => SnapshotAccumulator<In, Out>,
): OperatorFunction<In, Out> {
  return operate((subscriber) => {
    const accumulator = createAccumulator();
    return {
      next(value) {
        accumulator.add(value);
        subscriber.next(accumulator.snapshot());
      },
      error(error) {
        subscriber.error(
          error instanceof StreamTruncatedError ? new StreamTruncatedError<Out>({ message: error.message, partial: accumulator.snapshot() }) : error,
        );
      },
    };
  });
}

/**
 * Where the entry for a provider's `index` is, or goes, among `entries` kept in
 * index order. Entries are stored dense: a sparse or huge index makes no holes
 * (an array indexed by it would be walked on every snapshot, or not fit).
 */
export function positionOf<T>(entries: readonly T[], index: number, indexOf: (entry: T) => number): number {
  const position = entries.findIndex((entry) => indexOf(entry) >= index);
  return position === -1 ? entries.length : position;
}

/**
 * Changes the value at a provider's `index` in `values`, whose indexes are
 * `indexes` (same order), inserting it where it belongs when it is new.
 */
export function placeAt<T>(values: T[], indexes: number[], index: number, change: (value: T | undefined) => T): void {
  const position = positionOf(indexes, index, (entry) => entry);
  if (indexes[position] === index) {
    values[position] = change(values[position]);
    return;
  }
  values.splice(position, 0, change(undefined));
  indexes.splice(position, 0, index);
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
  readonly index: number;
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
  private readonly choices: ChoiceState<Choice, Snapshot>[] = [];

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
    for (const choice of chunk.choices) this.choiceAt(choice.index ?? 0).add(choice);
  }

  private choiceAt(index: number): ChoiceState<Choice, Snapshot> {
    const position = positionOf(this.choices, index, (choice) => choice.index);
    if (this.choices[position]?.index === index) return this.choices[position];
    const state = this.createChoice(index);
    this.choices.splice(position, 0, state);
    return state;
  }

  snapshot(): ChoicesSnapshot<Kind, Snapshot> {
    const completion: ChoicesSnapshot<Kind, Snapshot> = {
      id: this.id,
      object: this.kind,
      created: this.created,
      model: this.model,
      choices: this.choices.map((choice) => choice.snapshot()),
    };
    if (this.systemFingerprint !== undefined) completion.system_fingerprint = this.systemFingerprint;
    if (this.usage) completion.usage = this.usage;
    return completion;
  }
}
