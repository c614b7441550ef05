import { performance } from 'node:perf_hooks';

/**
 * Timing and size of one streamed answer, for the live status and the stats
 * line. Tokens are the provider's `usage` count when it sent one, else the
 * number of content deltas (marked `~`: most providers send one token per
 * delta). Tokens per second count from the first token to the end, so they
 * measure generation, not the wait before it.
 */
export class StreamStats {
  private readonly startedAt = performance.now();
  private firstTokenAt: number | undefined;
  private endedAt: number | undefined;
  private deltas = 0;
  private usageTokens: number | undefined;
  private finishReason: string | undefined;

  /** A piece of the answer arrived (text, or tool-call arguments). */
  delta(): void {
    this.firstTokenAt ??= performance.now();
    this.deltas++;
  }

  usage(outputTokens: number | undefined): void {
    if (outputTokens !== undefined) this.usageTokens = outputTokens;
  }

  finish(reason: string | null | undefined): void {
    if (reason) this.finishReason = reason;
  }

  end(): void {
    this.endedAt ??= performance.now();
  }

  get started(): boolean {
    return this.firstTokenAt !== undefined;
  }

  /**
   * `waiting for gpt-4o-mini · 0.8 s`, then `streaming · 17 tokens · 38.2 tokens/s · 1.2 s`,
   * or when `compact` (beside the answer text) `17 tokens · 38.2 tokens/s`.
   */
  live(model: string, compact = false): string {
    const elapsed = performance.now() - this.startedAt;
    if (this.firstTokenAt === undefined) return `waiting for ${model} · ${duration(elapsed)}`;
    const progress = `${this.deltas} tokens · ${rate(this.deltas, performance.now() - this.firstTokenAt)}`;
    return compact ? progress : `streaming · ${progress} · ${duration(elapsed)}`;
  }

  /**
   * `first token 312 ms · 42 tokens · 38.5 tokens/s · total 1.40 s · finish stop`;
   * `ending` replaces the finish reason when the stream did not finish (`interrupted`, `error`).
   */
  summary(ending?: string): string {
    const end = this.endedAt ?? performance.now();
    const tokens = this.usageTokens ?? this.deltas;
    const exact = this.usageTokens !== undefined;
    return [
      `first token ${this.firstTokenAt === undefined ? '—' : duration(this.firstTokenAt - this.startedAt)}`,
      `${exact ? '' : '~'}${tokens} tokens`,
      this.firstTokenAt === undefined ? '— tokens/s' : rate(tokens, end - this.firstTokenAt),
      `total ${duration(end - this.startedAt)}`,
      ending ?? `finish ${this.finishReason ?? '—'}`,
    ].join(' · ');
  }
}

function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function rate(tokens: number, ms: number): string {
  return ms > 0 && tokens > 0 ? `${((tokens * 1000) / ms).toFixed(1)} tokens/s` : '— tokens/s';
}
