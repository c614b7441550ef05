/*
 * JSON from a client or an upstream is foreign data: V8's `JSON.parse` takes
 * any depth, but `JSON.stringify`, a recursive walk or a log call on the value
 * overflows the stack a few thousand levels down. Where openai-rx keeps such a
 * value (an error body, an audited `usage`, a relayed request), it keeps it only
 * when it nests at most {@link MAX_JSON_DEPTH} levels.
 */

/** Far deeper than any real request, chunk or error (a strict JSON schema in `response_format` uses a few dozen). */
export const MAX_JSON_DEPTH = 128;

/**
 * Whether JSON `text` opens more than `maxDepth` arrays and objects inside one
 * another. One pass over the characters, strings skipped; the text need not be
 * valid JSON.
 */
export function nestsDeeperThan(text: string, maxDepth: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (inString) {
      if (code === BACKSLASH) at++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) inString = true;
    else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) depth--;
  }
  return false;
}

/** The value of JSON `text`, or `undefined` when it is not JSON or nests deeper than {@link MAX_JSON_DEPTH}. */
export function parseForeignJson(text: string): unknown {
  if (nestsDeeperThan(text)) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** JSON text of a value parsed from foreign JSON; a placeholder when it nests too deep to serialize. */
export function foreignJsonText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return '(JSON nested too deeply to show)';
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
