import type { SseFrame } from './types.js';

/**
 * A frame back to wire text. For OpenAI's `data: …\n\n` events and `: comment`
 * keep-alives the result is byte for byte what the server sent; other framings
 * (CRLF, `data:` without a space, a comment without its space) come out as the
 * same frames in canonical form, which any SSE parser reads alike. `retry:`
 * lines are not frames (openai-rx does not reconnect) and are not reproduced.
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
