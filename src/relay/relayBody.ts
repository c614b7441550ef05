import { firstValueFrom } from 'rxjs';
import { readText } from '../sse/readText.js';
import type { ByteStream } from '../transport/types.js';

/** Returned by a body reader when the body is larger than allowed; the rest of it was not read. */
export const BODY_TOO_LARGE = Symbol('body too large');

export type BodyText = string | typeof BODY_TOO_LARGE;

/** Reads the incoming request body as text, up to `limitBytes`. Rejects when the client goes away meanwhile. */
export type ReadBody = (limitBytes: number) => Promise<BodyText>;

/** A request body read through {@link readText} up to `limitBytes`: its text, or {@link BODY_TOO_LARGE}. */
export async function readBodyText(body: ByteStream, limitBytes: number): Promise<BodyText> {
  const { text, truncated } = await firstValueFrom(readText(body, limitBytes));
  return truncated ? BODY_TOO_LARGE : text;
}

/** A declared `content-length` above the limit is refused before a byte is read. */
export function declaresTooMuch(contentLength: string | null | undefined, limitBytes: number): boolean {
  return contentLength != null && Number(contentLength) > limitBytes;
}
