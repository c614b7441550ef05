import { Observable } from 'rxjs';
import type { ByteStream } from '../transport/types.js';

/** A body read as text by {@link readText}. */
export interface BodyText {
  text: string;
  /** The body was longer than the limit, or the reading was stopped: `text` is what arrived first. */
  truncated: boolean;
}

/**
 * Reads a body as UTF-8 text, keeping at most `limitBytes`: past that the rest
 * is not read and the body is cancelled, so a huge body cannot grow memory.
 * Cold: subscribing starts the reading; it emits once, at the end of the body
 * or at the limit. `stop$` ends the reading early with what arrived.
 * Unsubscribing cancels the body.
 *
 * @example
 * readText(response.body, 64 * 1024, timer(5_000)).subscribe(({ text }) => report(text));
 */
export function readText(body: ByteStream, limitBytes: number, stop$?: Observable<unknown>): Observable<BodyText> {
  return new Observable<BodyText>((subscriber) => {
    const decoder = new TextDecoder();
    let text = '';
    let received = 0;
    let done = false;
    const finish = (truncated: boolean) => {
      if (done) return;
      done = true;
      if (truncated) body.cancel();
      subscriber.next({ text: text + decoder.decode(), truncated });
      subscriber.complete();
    };
    body.read({
      data(chunk) {
        if (done) return;
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
        if (done) return;
        done = true;
        subscriber.error(error);
      },
    });
    const stopping = stop$?.subscribe({ next: () => finish(true), error: (error: unknown) => subscriber.error(error) });
    return () => {
      stopping?.unsubscribe();
      if (!done) {
        done = true;
        body.cancel();
      }
    };
  });
}
