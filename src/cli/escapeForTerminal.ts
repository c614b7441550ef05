/** Foreign text longer than this is cut (with its length said) unless the caller chooses another bound. */
export const DEFAULT_MAX_CHARS = 1000;

/*
 * What a terminal or a log reader must never receive raw from foreign data:
 * C0 controls (ESC starts escape sequences, CR/LF forge log lines, BEL ends an
 * OSC), DEL, C1 controls (U+009B is a CSI on its own, U+009D an OSC), the line
 * and paragraph separators, and the bidirectional marks, embeddings, overrides
 * and isolates that make a line read differently from its bytes.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE_IN_LINE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/* In answer text line breaks and tabs are text; every other control character still is not. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROLS_IN_TEXT = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
/* What JSON.stringify leaves raw that a terminal acts on or reorders (it escapes C0 itself). */
const UNSAFE_IN_JSON = /[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Foreign text (a client's model name, an upstream's error message or request
 * id) made safe for one line of a terminal or a log: every character in
 * {@link UNSAFE_IN_LINE} is shown as an escape (`\n`, `\x1b`, `\x9b`,
 * `\u{202e}`), so no escape sequence reaches the terminal and no line break
 * forges a log line; at most `maxChars` characters are kept. Backslashes are
 * left as they are: the escapes are for reading, not for decoding.
 *
 * @example
 * escapeForTerminal('gpt\r\nPOST /forged \x1b[31m') // 'gpt\\r\\nPOST /forged \\x1b[31m'
 * escapeForTerminal('x'.repeat(5000), 10)           // 'xxxxxxxxxx… (5000 characters)'
 */
export function escapeForTerminal(text: string, maxChars = DEFAULT_MAX_CHARS): string {
  if (text.length <= maxChars) return text.replace(UNSAFE_IN_LINE, escapeChar);
  // Never end on half a surrogate pair.
  const end = isHighSurrogate(text.charCodeAt(maxChars - 1)) ? maxChars - 1 : maxChars;
  return `${text.slice(0, end).replace(UNSAFE_IN_LINE, escapeChar)}… (${text.length} characters)`;
}

/**
 * Answer text for a terminal: line breaks and tabs stay, every other control
 * character (ESC, BEL, CR, C1) is shown as an escape, so a hostile upstream
 * cannot drive the reader's terminal (set its title, plant a hyperlink,
 * overwrite a line) through the answer.
 *
 * @example
 * escapeTerminalControls('Hi\n\x1b]0;pwned\x07there') // 'Hi\n\\x1b]0;pwned\\x07there'
 */
export function escapeTerminalControls(text: string): string {
  return text.replace(CONTROLS_IN_TEXT, escapeChar);
}

/**
 * A JSON text with DEL, C1 controls, separators and bidirectional controls
 * written as `\u` escapes: the same JSON value, safe on a terminal, still
 * valid JSON for the program reading it.
 *
 * @example
 * escapeJsonForTerminal(JSON.stringify({ content: '\u009b31m' })) // '{"content":"\\u009b31m"}'
 */
export function escapeJsonForTerminal(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function escapeChar(char: string): string {
  const named = NAMED[char];
  if (named) return named;
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
