/** Returned by a body reader when the body is larger than allowed; the rest of it was not read. */
export const BODY_TOO_LARGE = Symbol('body too large');

export type BodyText = string | typeof BODY_TOO_LARGE;

/** Reads the incoming request body as text, up to `limitBytes`. Rejects when the client goes away meanwhile. */
export type ReadBody = (limitBytes: number) => Promise<BodyText>;

/**
 * Collects a request body's chunks while counting them: `add` returns false as
 * soon as the body outgrows the limit, so an adapter stops reading there and
 * memory never holds more than the limit.
 */
export function bodyCollector(limitBytes: number) {
  const chunks: Uint8Array[] = [];
  let size = 0;
  return {
    add(chunk: Uint8Array): boolean {
      size += chunk.byteLength;
      if (size > limitBytes) return false;
      chunks.push(chunk);
      return true;
    },
    text(): string {
      const decoder = new TextDecoder();
      let text = '';
      for (const chunk of chunks) text += decoder.decode(chunk, { stream: true });
      return text + decoder.decode();
    },
  };
}

/** A declared `content-length` above the limit is refused before a byte is read. */
export function declaresTooMuch(contentLength: string | null | undefined, limitBytes: number): boolean {
  return contentLength != null && Number(contentLength) > limitBytes;
}
