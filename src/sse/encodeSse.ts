import type { SseFrame } from './types.js';

/**
 * A parsed frame (what the client's `events()` gives) back to wire text, in
 * canonical form: `event:`, `id:`, then `data: ` lines, LF line endings, a
 * blank line. For OpenAI's `data: …\n\n` events and `: comment` keep-alives
 * that is byte for byte what the server sent; other framings (CRLF, `data:`
 * without a space, a comment without its space, other field orders) come out
 * as the same frames, not the same bytes, which any SSE parser reads alike.
 * `retry:` lines and `id:`-only blocks are not frames and are not reproduced.
 * The relays do not re-encode: they pass upstream's bytes on unchanged.
 *
 * @example
 * client.chat.completions.events(params).pipe(map(encodeSse)).subscribe((text) => res.write(text));
 */
export function encodeSse(frame: SseFrame): string {
  if (frame.type === 'comment') return `: ${frame.text}\n\n`;
  let text = '';
  if (frame.event !== undefined) text += `event: ${frame.event}\n`;
  if (frame.id !== undefined) text += `id: ${frame.id}\n`;
  const data = frame.data;
  if (data.indexOf('\n') === -1) return `${text}data: ${data}\n\n`;
  for (const line of data.split('\n')) text += `data: ${line}\n`;
  return `${text}\n`;
}
