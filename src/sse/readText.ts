import type { ByteStream } from '../transport/types.js';

/**
 * Reads a body as UTF-8 text, keeping at most `limitBytes`; past that the rest is
 * discarded and the connection cancelled, so a huge error page cannot grow memory.
 */
export function readText(body: ByteStream, limitBytes: number): Promise<{ text: string; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const decoder = new TextDecoder();
    let text = '';
    let received = 0;
    body.read({
      data(chunk) {
        if (received >= limitBytes) return;
        const room = limitBytes - received;
        received += chunk.byteLength;
        if (chunk.byteLength > room) {
          text += decoder.decode(chunk.subarray(0, room));
          body.cancel();
          resolve({ text, truncated: true });
          return;
        }
        text += decoder.decode(chunk, { stream: true });
      },
      end() {
        if (received <= limitBytes) resolve({ text: text + decoder.decode(), truncated: false });
      },
      error: reject,
    });
  });
}
