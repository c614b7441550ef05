import { map, Observable } from 'rxjs';
import type { ByteStream } from '../transport/types.js';
import { concatBytes } from './concatBytes.js';

/** A body read by {@link readBytes}. */
export interface BodyBytes {
  bytes: Uint8Array;
  /** The body was longer than the limit, or the reading was stopped: `bytes` is what arrived first. */
  truncated: boolean;
}

/** A body read as text by {@link readText}. */
export interface BodyText {
  text: string;
  /** The body was longer than the limit, or the reading was stopped: `text` is what arrived first. */
  truncated: boolean;
}

/**
 * Reads a body, keeping at most `limitBytes`: past that the rest is not read
 * and the body is cancelled, so a huge body cannot grow memory. Cold:
 * subscribing starts the reading; it emits once, at the end of the body or at
 * the limit. `stop$` ends the reading early with what arrived. Unsubscribing
 * cancels the body.
 *
 * @example
 * readBytes(response.body, 16 * 1024 * 1024).subscribe(({ bytes }) => forward(bytes));
 */
export function readBytes(body: ByteStream, limitBytes: number, stop$?: Observable<unknown>): Observable<BodyBytes> {
  return new Observable<BodyBytes>((subscriber) => {
    const chunks: Uint8Array[] = [];
    let received = 0;
    let done = false;
    const finish = (truncated: boolean) => {
      if (done) return;
      done = true;
      if (truncated) body.cancel();
      subscriber.next({ bytes: concatBytes(chunks, Math.min(received, limitBytes)), truncated });
      subscriber.complete();
    };
    body.read({
      data(chunk) {
        if (done) return;
        const room = limitBytes - received;
        received += chunk.byteLength;
        chunks.push(chunk.byteLength > room ? chunk.subarray(0, room) : chunk);
        if (chunk.byteLength > room) finish(true);
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
      // However the reading ended: the body's listeners may outlive it (a relay's request, open for the whole stream).
      chunks.length = 0;
      if (!done) {
        done = true;
        body.cancel();
      }
    };
  });
}

/**
 * {@link readBytes} as UTF-8 text (a multi-byte character cut by the limit is dropped).
 *
 * @example
 * readText(response.body, 64 * 1024, timer(5_000)).subscribe(({ text }) => report(text));
 */
export function readText(body: ByteStream, limitBytes: number, stop$?: Observable<unknown>): Observable<BodyText> {
  return readBytes(body, limitBytes, stop$).pipe(map(({ bytes, truncated }) => ({ text: decoder.decode(bytes), truncated })));
}

const decoder = new TextDecoder();
