/** Refusal text kept by the operators that pass content on without keeping it; a refusal is a sentence or two. */
export const MAX_REFUSAL_CHARS = 16 * 1024;

/** `kept` with `more` appended, up to {@link MAX_REFUSAL_CHARS}: an upstream that never stops refusing costs nothing. */
export function appendRefusal(kept: string, more: string): string {
  return kept.length >= MAX_REFUSAL_CHARS ? kept : kept + more.slice(0, MAX_REFUSAL_CHARS - kept.length);
}
