import { escapeForTerminal, escapeJsonForTerminal, escapeTerminalControls } from '../../src/cli/escapeForTerminal';

// Foreign text on the operator's terminal: nothing in it may act on the terminal or break a log line.

/** Every character a terminal or a log reader must not receive raw. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

const EVERY_CONTROL = [
  ...Array.from({ length: 0x20 }, (_, code) => String.fromCharCode(code)),
  ...Array.from({ length: 0x21 }, (_, offset) => String.fromCharCode(0x7f + offset)),
  '\u061c', '\u200e', '\u200f', '\u2028', '\u2029', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069',
].join('');

test('CR, LF, ANSI, OSC (title, hyperlink) and C1 CSI are shown as escapes, on one line', () => {
  const hostile = 'gpt-4o\r\nPOST /v1/forged · 200\x1b[31mred\x1b]0;title\x07\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\\u009b2J';
  expect(escapeForTerminal(hostile)).toBe(
    'gpt-4o\\r\\nPOST /v1/forged · 200\\x1b[31mred\\x1b]0;title\\x07\\x1b]8;;http://evil\\x1b\\link\\x1b]8;;\\x1b\\\\x9b2J',
  );
});

test('no control, separator or bidi character survives, and each is still visible', () => {
  const escaped = escapeForTerminal(EVERY_CONTROL);
  expect(escaped).not.toMatch(UNSAFE);
  expect(escaped).toContain('\\x00');
  expect(escaped).toContain('\\t');
  expect(escaped).toContain('\\x7f');
  expect(escaped).toContain('\\x9b');
  expect(escaped).toContain('\\u{2028}');
  expect(escaped).toContain('\\u{202e}');
  expect(escaped).toContain('\\u{2069}');
});

test('ordinary text, Unicode included, is left as it is', () => {
  const text = 'gpt-4o-mini · 東京 · e\u0301 · 😀 · C:\\models\\llama';
  expect(escapeForTerminal(text)).toBe(text);
});

test('long text is cut to the bound and says how long it was; a surrogate pair is never split', () => {
  expect(escapeForTerminal('x'.repeat(5000), 10)).toBe('xxxxxxxxxx… (5000 characters)');
  expect(escapeForTerminal('x'.repeat(5000))).toHaveLength(1000 + '… (5000 characters)'.length);
  expect(escapeForTerminal(`abc${'😀'.repeat(10)}`, 6)).toBe('abc😀… (23 characters)');
  // The bound counts the text, not the escapes: a line of controls stays bounded too.
  expect(escapeForTerminal('\x1b'.repeat(100_000), 50)).toBe(`${'\\x1b'.repeat(50)}… (100000 characters)`);
});

test('escaping twice changes nothing more', () => {
  const once = escapeForTerminal(EVERY_CONTROL);
  expect(escapeForTerminal(once)).toBe(once);
});

test('answer text keeps line breaks, tabs and bidi text, and loses every control sequence', () => {
  const answer = 'Line one\n\tindented\r\x1b]0;pwned\x07\x1b[2J\u009b31m\x08\x7f שלום \u202e';
  const shown = escapeTerminalControls(answer);
  expect(shown).toBe('Line one\n\tindented\\r\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\x08\\x7f שלום \u202e');
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  expect(shown).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
});

test('a JSON line keeps its value and loses DEL, C1 and bidi controls (JSON.stringify escapes C0 itself)', () => {
  const value = { content: `a\x1b[31m\u009b2J\x7f\u2028\u202e東` };
  const json = escapeJsonForTerminal(JSON.stringify(value));
  expect(json).not.toMatch(UNSAFE);
  expect(JSON.parse(json)).toEqual(value);
});
