import type { ChatCompletionChunk } from '../../index.js';

/** The figures of one answer, counted as it streams and told in words. */
export interface RunStats {
  /** A frame arrived (any: events and comments). */
  frame(): void;
  /** A piece of text or of tool arguments arrived. */
  delta(): void;
  /** A batch of text was drawn. */
  render(): void;
  /** Notes the finish reason and usage a chunk carries. */
  chunk(chunk: ChatCompletionChunk): void;
  /** Whether any frame arrived. */
  heard(): boolean;
  /** Pieces of text or tool arguments so far. */
  tokens(): number;
  /** Milliseconds since the last frame (or the start, before one). */
  silenceMs(): number;
  /** While streaming: `42 tokens · 1.2 s`. */
  progress(): string;
  /** Once done: the whole answer's figures in a sentence. */
  summary(): string;
  /** Once stopped: how far it got. */
  stoppedAfter(): string;
}

/**
 * Counts one answer: the time to its first token, its tokens, the frames, how
 * often the text was drawn (fewer than the tokens: paceText draws at most once
 * per animation frame), its finish reason and usage.
 *
 * @example
 * const stats = runStats({ resumed: false });
 * deltas$.pipe(tap(stats.delta)).subscribe();
 * status.show('done', 'Done', stats.summary());
 */
export function runStats(config: { resumed: boolean }, now: () => number = () => performance.now()): RunStats {
  const startedAt = now();
  let lastFrameAt = startedAt;
  let frames = 0;
  let firstDeltaAt: number | undefined;
  let lastDeltaAt = startedAt;
  let deltas = 0;
  let renders = 0;
  let finish: string | undefined;
  let usage: { prompt: number; completion: number } | undefined;
  const counted = () => `${deltas} ${deltas === 1 ? 'token' : 'tokens'}`;
  return {
    frame() {
      frames++;
      lastFrameAt = now();
    },
    delta() {
      deltas++;
      lastDeltaAt = now();
      firstDeltaAt ??= lastDeltaAt;
    },
    render: () => void renders++,
    chunk(chunk) {
      const reason = chunk.choices.find((choice) => (choice.index ?? 0) === 0)?.finish_reason;
      if (reason) finish = reason;
      if (chunk.usage) usage = { prompt: chunk.usage.prompt_tokens ?? 0, completion: chunk.usage.completion_tokens ?? 0 };
    },
    heard: () => frames > 0,
    tokens: () => deltas,
    silenceMs: () => now() - lastFrameAt,
    progress: () => `${counted()} · ${seconds(now() - startedAt)}`,
    summary() {
      const first = config.resumed || firstDeltaAt === undefined ? '' : `, the first after ${Math.round(firstDeltaAt - startedAt)} ms`;
      const drawn = renders > 0 ? `, drawn in ${renders} screen updates` : '';
      const parts = [
        `${config.resumed ? 'Rebuilt after the reload: ' : ''}${counted()} in ${seconds(lastDeltaAt - startedAt)}${first}${drawn}.`,
        finish ? `Finish reason: ${finish}.` : '',
        usage ? `Usage: ${usage.prompt} prompt + ${usage.completion} completion tokens.` : '',
      ];
      return parts.filter(Boolean).join(' ');
    },
    stoppedAfter: () => `after ${counted()} (${seconds(now() - startedAt)})`,
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
