import { isRecord } from '../../sse/httpErrors.js';

/** The answer that was streaming when the page went away: enough to pick it up after a reload. */
export interface StoredStream {
  /** The relay's `x-stream-id` (`ResponseHead.streamId`). */
  streamId: string;
  /** What was asked, to show it again. */
  prompt: string;
  /** The scenario it was asked with, if any. */
  presetId: string | undefined;
}

const KEY = 'openai-rx-demo:stream';
/** As the client accepts a stream id. */
const STREAM_ID = /^[\w~.-]{1,256}$/;
const PROMPT_LIMIT = 20_000;

/**
 * Keeps the streaming answer's id in sessionStorage (per tab, survives a
 * reload): {@link keepStream} once its head arrives, {@link forgetStream}
 * when it ends, is stopped or fails, {@link storedStream} at start-up. Storage
 * that throws (a privacy mode) or holds something else means nothing stored.
 *
 * @example
 * const stored = storedStream();
 * if (stored) client.resumeStream(stored.streamId).pipe(finalize(() => forgetStream(stored.streamId))).subscribe(render);
 */
export function keepStream(stream: StoredStream): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify({ ...stream, prompt: stream.prompt.slice(0, PROMPT_LIMIT) }));
  } catch {
    // No storage: a reload then starts afresh, as without this feature.
  }
}

/** Forgets the stored answer if it is `streamId` (a newer answer may have replaced it). */
export function forgetStream(streamId: string): void {
  try {
    if (storedStream()?.streamId === streamId) sessionStorage.removeItem(KEY);
  } catch {
    // Nothing stored, then.
  }
}

export function storedStream(): StoredStream | undefined {
  let value: unknown;
  try {
    value = JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
  } catch {
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  const { streamId, prompt, presetId } = value;
  if (typeof streamId !== 'string' || !STREAM_ID.test(streamId)) return undefined;
  return {
    streamId,
    prompt: typeof prompt === 'string' ? prompt.slice(0, PROMPT_LIMIT) : '',
    presetId: typeof presetId === 'string' ? presetId : undefined,
  };
}
