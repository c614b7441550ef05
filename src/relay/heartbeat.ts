export interface HeartbeatConfig {
  intervalMs: number;
  /** When the response was last written to (same clock as `now`). */
  lastWriteAt(): number;
  /** While the client is not keeping up, a heartbeat would only queue behind the data. */
  paused(): boolean;
  beat(): void;
  now(): number;
}

/**
 * Writes a heartbeat whenever `intervalMs` passed without any other write.
 * One timer per quiet period instead of one per write: it re-arms itself for
 * the time left since the last write. Returns the function that stops it.
 *
 * @example
 * const stop = heartbeat({ intervalMs: 15_000, lastWriteAt: () => last, paused: () => false, beat, now });
 */
export function heartbeat(config: HeartbeatConfig): () => void {
  const { intervalMs } = config;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const check = () => {
    const quietFor = config.now() - config.lastWriteAt();
    if (config.paused()) timer = setTimeout(check, intervalMs);
    else if (quietFor >= intervalMs) {
      config.beat();
      timer = setTimeout(check, intervalMs);
    } else timer = setTimeout(check, intervalMs - quietFor);
  };
  if (intervalMs > 0) timer = setTimeout(check, intervalMs);
  return () => clearTimeout(timer);
}
