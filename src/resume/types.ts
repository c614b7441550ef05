/*
 * The resume store contract: what a relay in resume mode needs from the place
 * that keeps a generation's frames, so that any relay instance sharing the
 * store can serve a reader, and a cancel reaches the instance holding the
 * upstream request. `memoryResumeStore()` keeps them in one process;
 * `redisResumeStore()` (openai-rx/redis) in Redis, shared by many.
 */

import type { Observable } from 'rxjs';

/** One block of a generation, in the store. Its bytes are as upstream sent them; readers add the `id:` line. */
export interface StoredEntry {
  /** The event number (1, 2, 3 …) of a block that carries an event; 0 for comments, `retry:` and `id:`-only blocks. */
  event: number;
  bytes: Uint8Array;
}

/** How a generation ended: its outcome and the relay's own last frame, if any (an error frame), stored without an id. */
export interface StoredEnding {
  /** A relay outcome: `completed`, `upstream-error`, `truncated`, `timeout`, `cancelled`, `abandoned`, … */
  outcome: string;
  frame?: Uint8Array;
}

/** What a store keeps about a stream beside its frames. */
export interface StreamMeta {
  /** Who may resume or cancel it: the relay's `resume.userOf(request)` when the stream was created; absent: anyone with the id. */
  user?: string;
  /** When the generation started (ms since the epoch). */
  createdAt: number;
}

/** What a reader gets at each read: the entries since its last read, then the ending once everything before it was read. */
export interface StoreRead {
  entries: StoredEntry[];
  /**
   * The generation's ending; `lost` when the instance holding the upstream request stopped answering (a crash);
   * an ending with outcome `evicted` when this reader fell so far behind that the entries it needed were dropped.
   */
  ending?: StoredEnding | 'lost';
}

export interface StoreReader {
  /** Resolves at once when something is waiting, else when something arrives (or the stream ends or is lost). */
  next(): Promise<StoreRead>;
  /** The reader is done (its client left or got everything): it no longer counts as attached. */
  close(): void;
}

/** The owner's side of a stream: the instance whose generation reads upstream into it. */
export interface StreamRecording {
  /**
   * Appends in order, event numbers consecutive from 1 (the Redis store throws on a gap, keeping nothing of that
   * append); never blocks the generation (the store writes in the background, in order).
   */
  append(entries: StoredEntry[]): void;
  /** The last write: the ending; the stream stays readable for the store's `retainMs`, then every key of it expires. */
  finish(ending: StoredEnding): Promise<void>;
  /** `callback` runs once when a cancel for this stream arrives, from any instance. */
  onCancel(callback: () => void): void;
  /**
   * `callback` runs once no reader has been attached, on any instance, for `abandonAfterMs` (counting from now if
   * none is attached): the generation is abandoned.
   */
  onAbandoned(abandonAfterMs: number, callback: () => void): void;
  /** The store failed (Redis went away): the generation cannot be kept; `callback` runs once with why. */
  onFailure(callback: (error: Error) => void): void;
  /** Stops the owner's timers and subscriptions (after `finish`, or when the generation was dropped). */
  release(): void;
  /**
   * `true` while the store's writes fall behind the generation: the relay stops reading upstream (TCP carries the
   * pause back to it) until it says `false`, so that a slow store sets the pace instead of filling memory. Absent: the
   * store keeps up with any pace (the memory store).
   */
  readonly backlog$?: Observable<boolean>;
}

/**
 * Why a stream cannot be read from the position asked for: `unknown` (no such stream, or expired), `evicted` (the
 * entries just after the position are no longer kept), `ahead` (the position is past the last event: no client can
 * have seen it).
 */
export type StoreOpenFailure = 'unknown' | 'evicted' | 'ahead';

export interface ResumeStore {
  /** Starts keeping a new stream, owned by this instance. */
  create(id: string, meta: StreamMeta): Promise<StreamRecording>;
  /** The stream's meta; `undefined` when it is unknown or expired. */
  meta(id: string): Promise<StreamMeta | undefined>;
  /**
   * A reader of the stream from after event `afterEvent` (0: from the start): the entries stored after it, then the
   * live ones, then the ending; or a {@link StoreOpenFailure}.
   */
  read(id: string, afterEvent: number): Promise<StoreReader | StoreOpenFailure>;
  /** Asks the owner, wherever it runs, to stop the generation. `finished` when it already ended, `unknown` when there is no such stream. */
  cancel(id: string): Promise<'cancelling' | 'finished' | 'unknown'>;
  /** Closes what the store opened (connections, timers). */
  close(): Promise<void>;
}
