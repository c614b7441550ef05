import type { ByteStream } from '../transport/types.js';

/**
 * Reads a body as UTF-8 text, keeping at most `limitBytes`; past that the rest is
 * discarded and the connection cancelled, so a huge error page cannot grow memory.
 * Aborting `stop` ends the reading the same way, with what arrived so far.
 */
export function readText(
  body: ByteStream,
  limitBytes: number,
  stop?: AbortSignal,
): Promise<{ text: string; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const decoder = new TextDecoder();
    let text = '';
    let received = 0;
    let settled = false;
    const settle = () => {
      settled = true;
      stop?.removeEventListener('abort', onStop);
    };
    const finish = (truncated: boolean) => {
      if (settled) return;
      settle();
      if (truncated) body.cancel();
      resolve({ text: text + decoder.decode(), truncated });
    };
    const onStop = () => finish(true);
    stop?.addEventListener('abort', onStop);
    body.read({
      data(chunk) {
        if (settled) return;
        const room = limitBytes - received;
        received += chunk.byteLength;
        if (chunk.byteLength > room) {
          text += decoder.decode(chunk.subarray(0, room), { stream: true });
          finish(true);
          return;
        }
        text += decoder.decode(chunk, { stream: true });
      },
      end: () => finish(false),
      error(error) {
        if (settled) return;
        settle();
        reject(error);
      },
    });
    if (stop?.aborted) finish(true);
  });
}
