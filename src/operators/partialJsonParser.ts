import { PartialJsonError, type PartialJsonProblem } from '../errors.js';

/** A value JSON can hold. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface PartialJsonConfig {
  /** Arrays and objects nested deeper than this fail with `too-deep`; default 128 (like `MAX_JSON_DEPTH`). */
  maxDepth?: number;
  /** A text longer than this many characters fails with `too-long`; default 16 Mi characters. */
  maxLength?: number;
}

const DEFAULT_PARTIAL_JSON_MAX_DEPTH = 128;
const DEFAULT_PARTIAL_JSON_MAX_LENGTH = 16 * 1024 * 1024;

/**
 * A streaming JSON parser: `push` each piece of the text as it arrives; it
 * reads every character once and keeps its state between pieces, so parsing a
 * whole answer costs time linear in its length, however it was split.
 *
 * `value` is the value so far: objects hold the keys whose value has begun,
 * strings grow as characters arrive (never ending in half a surrogate pair),
 * numbers, `true`, `false` and `null` appear once complete. A value handed out
 * is never changed afterwards: the next change copies the containers on the
 * path from the root to it (copy-on-write, at most once per `push`), and shares
 * everything else with the previous value.
 */
export interface PartialJsonParser {
  /** The value so far; `undefined` until one has begun. */
  readonly value: JsonValue | undefined;
  /** How many characters were pushed. */
  readonly length: number;
  /** Everything pushed so far. */
  readonly text: string;
  /**
   * Parses the next piece of text and returns whether `value` changed (the
   * previous `value` stays as it was). Throws a {@link PartialJsonError} at
   * the first character that cannot continue the JSON.
   */
  push(delta: string): boolean;
  /** The text has ended: completes a number at the top level, or throws a {@link PartialJsonError} when the JSON is unfinished. */
  end(): boolean;
}

type Container = JsonValue[] | { [key: string]: JsonValue };

// What the next character may be. Up to END, whitespace is skipped.
const VALUE = 0; // a value (after `:`, `,` in an array, or at the start)
const ARRAY_START = 1; // a value or `]`
const OBJECT_START = 2; // a key or `}`
const KEY = 3; // a key (after `,` in an object)
const COLON = 4;
const AFTER_VALUE = 5; // `,` or the container's closer
const END = 6; // the value is complete: only whitespace
const STRING = 7;
const ESCAPE = 8; // after `\` in a string
const UNICODE = 9; // inside `\uXXXX`
const NUMBER = 10;
const LITERAL = 11; // inside `true`, `false` or `null`
const FAILED = 12;

/** For error messages: what each state expects. */
const EXPECTED = [
  'a value',
  'a value or "]"',
  'a key or "}"',
  'a key',
  '":"',
  '"," or a closing bracket',
  'the end',
  'the rest of the string',
  'a valid escape',
  'a hex digit',
  'a digit',
];

// Where a number is, by the grammar -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?; the complete ones are odd.
const N_MINUS = 0;
const N_ZERO = 1;
const N_DOT = 2;
const N_INT = 3;
const N_EXP = 4;
const N_FRAC = 5;
const N_EXP_SIGN = 6;
const N_EXP_DIGITS = 7;

/** Strings shorter than this are not flattened; the text is flattened from TEXT_FLATTEN_AT_LEAST, in blocks of BLOCK_DELTAS deltas. */
const FLATTEN_AT_LEAST = 256;
const TEXT_FLATTEN_AT_LEAST = 4096;
const BLOCK_DELTAS = 256;

/**
 * A {@link PartialJsonParser}. No recursion: the nesting is an explicit
 * stack, bounded by `maxDepth`.
 */
export function partialJsonParser(config: PartialJsonConfig = {}): PartialJsonParser {
  const maxDepth = config.maxDepth ?? DEFAULT_PARTIAL_JSON_MAX_DEPTH;
  const maxLength = config.maxLength ?? DEFAULT_PARTIAL_JSON_MAX_LENGTH;
  let value: JsonValue | undefined;
  let length = 0;
  // The text so far: whole blocks (a rope of one node per block, flattened each time it doubles), then the deltas of
  // the current block (a short rope, flattened when the block is full). A rope of one node per delta would make every
  // GC walk it all; an array of the deltas, joined, costs several times more (the array alone costs more than this).
  let text = '';
  let flatTextLength = 0;
  let block = '';
  let blockDeltas = 0;

  let state = VALUE;
  const containers: Container[] = [];
  const isArray: boolean[] = [];
  /** The key each object on the stack is filling. */
  const keys: string[] = [];
  let depth = 0;
  /** How many containers from the root were created or copied since the value was last handed out. */
  let ownedDepth = 0;
  let changed = false;

  /** The current delta and where it starts in the text. */
  let chunk = '';
  let base = 0;

  let string = '';
  let stringIsKey = false;
  /** A high surrogate read last, kept out of `string` until its pair arrives: no partial string ends in half a character. */
  let pendingHigh = '';
  /** Lengths of `string` when it was last flattened and last shown. */
  let flatLength = 0;
  let shownLength = 0;
  let unicodeDigits = 0;
  let unicodeCode = 0;

  let number = '';
  let numberState = N_MINUS;
  let literal = '';
  let literalValue: JsonValue = null;
  let literalIndex = 0;

  const endBlock = () => {
    text += flat(block);
    block = '';
    blockDeltas = 0;
    if (text.length >= 2 * flatTextLength + TEXT_FLATTEN_AT_LEAST) flatTextLength = flat(text).length;
  };

  const fail = (problem: PartialJsonProblem, position: number, reason: string): never => {
    state = FAILED;
    throw new PartialJsonError({ problem, position, text: parser.text, reason });
  };

  const unexpected = (at: number): never => {
    const expected =
      state === AFTER_VALUE
        ? `"," or "${isArray[depth - 1] ? ']' : '}'}"`
        : state === LITERAL
          ? `"${literal[literalIndex]}" of ${literal}`
          : state === NUMBER && numberState & 1
            ? 'the end of the number'
            : EXPECTED[state];
    return fail('invalid', base + at, `Invalid JSON: unexpected ${JSON.stringify(chunk[at])}, expected ${expected}`);
  };

  /** Copies the containers from the root to level `until - 1` that were handed out, linking each copy into its parent. */
  const own = (until: number) => {
    for (let level = ownedDepth; level < until; level++) {
      const container = containers[level];
      const copy: Container = isArray[level] ? (container as JsonValue[]).slice() : { ...container };
      containers[level] = copy;
      if (level === 0) value = copy;
      else setChild(level - 1, copy);
    }
    if (until > ownedDepth) ownedDepth = until;
  };

  /** Sets the child being read at `level`: an array's last element, or the object's current key. */
  const setChild = (level: number, child: JsonValue) => {
    const container = containers[level];
    if (isArray[level]) (container as JsonValue[])[(container as JsonValue[]).length - 1] = child;
    else setOwnKey(container as Record<string, JsonValue>, keys[level], child);
  };

  /** Shows a new value (`replace`: the new state of the value being read) in the innermost container, or as the root. */
  const show = (child: JsonValue, replace: boolean) => {
    changed = true;
    if (depth === 0) {
      value = child;
      return;
    }
    own(depth);
    const container = containers[depth - 1];
    if (replace || !isArray[depth - 1]) setChild(depth - 1, child);
    else (container as JsonValue[]).push(child);
  };

  const afterValue = () => {
    state = depth === 0 ? END : AFTER_VALUE;
  };

  const complete = (done: JsonValue) => {
    show(done, false);
    afterValue();
  };

  const open = (array: boolean, at: number) => {
    if (depth >= maxDepth) fail('too-deep', base + at, `JSON nests deeper than ${maxDepth} levels`);
    const container: Container = array ? [] : {};
    show(container, false);
    containers[depth] = container;
    isArray[depth] = array;
    ownedDepth = ++depth;
    state = array ? ARRAY_START : OBJECT_START;
  };

  const close = (object: boolean, at: number) => {
    if (isArray[depth - 1] === object) unexpected(at);
    depth--;
    if (ownedDepth > depth) ownedDepth = depth;
    afterValue();
  };

  const beginString = (key: boolean) => {
    string = pendingHigh = '';
    flatLength = shownLength = 0;
    stringIsKey = key;
    state = STRING;
    if (!key) show('', false);
  };

  /**
   * Appends to the string being read. Never reads a character of `string`
   * itself: that would flatten the growing rope, copying it on every delta.
   */
  const append = (piece: string) => {
    if (pendingHigh) {
      piece = pendingHigh + piece;
      pendingHigh = '';
    }
    const last = piece.charCodeAt(piece.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) {
      pendingHigh = piece.slice(-1);
      piece = piece.slice(0, -1);
    }
    string += piece;
    if (string.length >= 2 * flatLength + FLATTEN_AT_LEAST) flatten();
  };

  /**
   * Makes the growing string flat again, each time its length doubles and
   * when it ends: the rope's nodes become garbage instead of a chain every GC
   * must copy.
   */
  const flatten = () => {
    flatLength = flat(string).length;
  };

  const showString = () => {
    if (string.length === shownLength) return;
    shownLength = string.length;
    show(string, true);
  };

  const endString = () => {
    string += pendingHigh;
    pendingHigh = '';
    if (string.length > flatLength) flatten();
    if (stringIsKey) {
      keys[depth - 1] = string;
      state = COLON;
    } else {
      showString();
      afterValue();
    }
  };

  /** Reads plain characters up to a quote, a backslash or a control character; returns where it stopped. */
  const readString = (at: number): number => {
    const start = at;
    let code = 0;
    while (at < chunk.length) {
      code = chunk.charCodeAt(at);
      if (code === 0x22 || code === 0x5c || code < 0x20) break;
      at++;
    }
    if (at > start) append(start === 0 && at === chunk.length ? chunk : chunk.slice(start, at));
    if (at === chunk.length) return at;
    if (code === 0x5c) state = ESCAPE;
    else if (code === 0x22) endString();
    else fail('invalid', base + at, `Invalid JSON: control character ${JSON.stringify(chunk[at])} in a string (it must be escaped)`);
    return at + 1;
  };

  const readEscape = (code: number, at: number) => {
    const char = ESCAPES[code];
    if (char !== undefined) {
      append(char);
      state = STRING;
    } else if (code === 0x75) {
      unicodeDigits = unicodeCode = 0;
      state = UNICODE;
    } else {
      unexpected(at);
    }
  };

  const readUnicodeDigit = (code: number, at: number) => {
    const digit = hexDigit(code);
    if (digit < 0) unexpected(at);
    unicodeCode = unicodeCode * 16 + digit;
    if (++unicodeDigits === 4) {
      append(String.fromCharCode(unicodeCode));
      state = STRING;
    }
  };

  /** Reads number characters; at the first character that ends the number, completes it and returns there. */
  const readNumber = (at: number): number => {
    const start = at;
    let next = numberState;
    for (; at < chunk.length; at++) {
      next = nextNumberState(numberState, chunk.charCodeAt(at));
      if (next < 0) break;
      numberState = next;
    }
    if (at > start) number += chunk.slice(start, at);
    if (at === chunk.length) return at;
    // An incomplete number, or a digit after a leading zero.
    if (!(numberState & 1) || isDigit(chunk.charCodeAt(at))) unexpected(at);
    complete(Number(number));
    return at;
  };

  const beginValue = (code: number, at: number) => {
    if (code === 0x7b || code === 0x5b) open(code === 0x5b, at);
    else if (code === 0x22) beginString(false);
    else if (code === 0x74 || code === 0x66 || code === 0x6e) {
      literal = code === 0x74 ? 'true' : code === 0x66 ? 'false' : 'null';
      literalValue = code === 0x74 ? true : code === 0x66 ? false : null;
      literalIndex = 1;
      state = LITERAL;
    } else if (code === 0x2d || isDigit(code)) {
      number = chunk[at];
      numberState = code === 0x2d ? N_MINUS : code === 0x30 ? N_ZERO : N_INT;
      state = NUMBER;
    }
    // RFC 8259 lets a parser ignore a byte order mark before the text.
    else if (code !== 0xfeff || base + at !== 0) unexpected(at);
  };

  const push = (delta: string): boolean => {
    if (state === FAILED) throw new Error('partialJsonParser: push after a failure');
    chunk = delta;
    base = length;
    length += delta.length;
    block += delta;
    if (++blockDeltas === BLOCK_DELTAS) endBlock();
    if (length > maxLength) fail('too-long', maxLength, `JSON text longer than ${maxLength} characters`);
    let at = 0;
    while (at < delta.length) {
      if (state === STRING) {
        at = readString(at);
        continue;
      }
      if (state === NUMBER) {
        at = readNumber(at);
        continue;
      }
      const code = delta.charCodeAt(at);
      if (state <= END && (code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09)) {
        at++;
        continue;
      }
      switch (state) {
        case VALUE:
          beginValue(code, at);
          break;
        case ARRAY_START:
          if (code === 0x5d) close(false, at);
          else beginValue(code, at);
          break;
        case OBJECT_START:
        case KEY:
          if (code === 0x22) beginString(true);
          else if (code === 0x7d && state === OBJECT_START) close(true, at);
          else unexpected(at);
          break;
        case COLON:
          if (code !== 0x3a) unexpected(at);
          state = VALUE;
          break;
        case AFTER_VALUE:
          if (code === 0x2c) state = isArray[depth - 1] ? VALUE : KEY;
          else if (code === 0x5d || code === 0x7d) close(code === 0x7d, at);
          else unexpected(at);
          break;
        case ESCAPE:
          readEscape(code, at);
          break;
        case UNICODE:
          readUnicodeDigit(code, at);
          break;
        case LITERAL:
          if (code !== literal.charCodeAt(literalIndex)) unexpected(at);
          if (++literalIndex === literal.length) complete(literalValue);
          break;
        default: // END
          fail('invalid', base + at, `Invalid JSON: unexpected ${JSON.stringify(delta[at])} after the JSON value`);
      }
      at++;
    }
    if (state >= STRING && state <= UNICODE && !stringIsKey) showString();
    return handOut();
  };

  const end = (): boolean => {
    if (state === NUMBER && depth === 0 && numberState & 1) complete(Number(number));
    if (state !== END) {
      const expected = state === LITERAL ? `the rest of ${literal}` : EXPECTED[state];
      fail('unfinished', length, length === 0 ? 'No JSON value: the text is empty' : `JSON ended unfinished: expected ${expected}`);
    }
    return handOut();
  };

  const handOut = (): boolean => {
    if (!changed) return false;
    changed = false;
    // From now on the containers handed out are copied before they change.
    ownedDepth = 0;
    return true;
  };

  const parser: PartialJsonParser = {
    get value() {
      return value;
    },
    get length() {
      return length;
    },
    get text() {
      if (block) endBlock();
      return flat(text);
    },
    push,
    end,
  };
  return parser;
}

/** The next number state after `code`, or -1 when `code` cannot continue the number. */
function nextNumberState(state: number, code: number): number {
  if (isDigit(code)) {
    switch (state) {
      case N_MINUS:
        return code === 0x30 ? N_ZERO : N_INT;
      case N_ZERO:
        return -1; // a digit after a leading zero
      case N_DOT:
        return N_FRAC;
      case N_INT:
      case N_FRAC:
        return state;
      default:
        return N_EXP_DIGITS;
    }
  }
  if (code === 0x2e) return state === N_ZERO || state === N_INT ? N_DOT : -1;
  if (code === 0x65 || code === 0x45) return state === N_ZERO || state === N_INT || state === N_FRAC ? N_EXP : -1;
  return (code === 0x2b || code === 0x2d) && state === N_EXP ? N_EXP_SIGN : -1;
}

/** `text`, flat: V8 flattens a rope in place when a character of it is read. */
function flat(text: string): string {
  void text.charCodeAt(0);
  return text;
}

/** The value of a hex digit's character code, or -1: arithmetic, as parseInt of the character costs text of \u escapes ~50% more. */
function hexDigit(code: number): number {
  if (isDigit(code)) return code - 0x30;
  // Lower case: letters differ from their capitals in bit 0x20 only.
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

const ESCAPES: Record<number, string> = { 0x22: '"', 0x5c: '\\', 0x2f: '/', 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t' };

/** `object[key] = value`, except that a `__proto__` key becomes an own property, as `JSON.parse` makes it. */
export function setOwnKey<T>(object: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
  else object[key] = value;
}
