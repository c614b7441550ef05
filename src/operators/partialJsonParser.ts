import { PartialJsonError, type PartialJsonProblem } from '../errors.js';

/** A value JSON can hold. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface PartialJsonConfig {
  /** Arrays and objects nested deeper than this fail with `too-deep`; default 128 (like `MAX_JSON_DEPTH`). */
  maxDepth?: number;
  /** A text longer than this many characters fails with `too-long`; default 16 Mi characters. */
  maxLength?: number;
}

export const DEFAULT_PARTIAL_JSON_MAX_DEPTH = 128;
export const DEFAULT_PARTIAL_JSON_MAX_LENGTH = 16 * 1024 * 1024;

type Container = JsonValue[] | { [key: string]: JsonValue };

// What the next character may be.
const VALUE = 0; // a value (after `:`, `,` in an array, or at the start)
const ARRAY_START = 1; // a value or `]`
const OBJECT_START = 2; // a key or `}`
const KEY = 3; // a key (after `,` in an object)
const COLON = 4;
const AFTER_VALUE = 5; // `,` or the container's closer
const END = 6; // only whitespace: the value is complete
const STRING = 7;
const ESCAPE = 8; // after `\` in a string
const UNICODE = 9; // inside `\uXXXX`
const NUMBER = 10;
const LITERAL = 11; // inside `true`, `false` or `null`
const FAILED = 12;

// Where a number is, by the JSON grammar -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
const N_MINUS = 0;
const N_ZERO = 1;
const N_INT = 2;
const N_DOT = 3;
const N_FRAC = 4;
const N_EXP = 5;
const N_EXP_SIGN = 6;
const N_EXP_DIGITS = 7;

const JOIN_AT_LEAST = 4096;
const FLATTEN_AT_LEAST = 256;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const BOM = 0xfeff;

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
 *
 * No recursion: the nesting is an explicit stack, bounded by `maxDepth`.
 */
export class PartialJsonParser {
  /** The value so far; `undefined` until one has begun. */
  value: JsonValue | undefined = undefined;
  /** How many characters were pushed so far. */
  length = 0;
  /** The pieces pushed so far; `text` joins them (a rope of one node per delta would make every GC copy it all). */
  private pieces: string[] = [];
  private joinedLength = 0;

  private readonly maxDepth: number;
  private readonly maxLength: number;
  private state = VALUE;
  private readonly containers: Container[] = [];
  private readonly isArray: boolean[] = [];
  /** The key each object on the stack is filling. */
  private readonly keys: string[] = [];
  private depth = 0;
  /** How many containers from the root were created or copied since the value was last handed out. */
  private ownedDepth = 0;
  private changed = false;

  private string = '';
  /** A high surrogate read last, kept out of `string` until its pair arrives, so no partial string ends in half a character. */
  private pendingHigh = '';
  /** Length of `string` when it was last flattened. */
  private flatLength = 0;
  private stringIsKey = false;
  /** Length of the string value as last published. */
  private publishedLength = 0;
  private unicodeDigits = 0;
  private unicodeCode = 0;

  private number = '';
  private numberState = N_MINUS;
  private literal = '';
  private literalValue: JsonValue = null;
  private literalIndex = 0;

  constructor(config: PartialJsonConfig = {}) {
    this.maxDepth = config.maxDepth ?? DEFAULT_PARTIAL_JSON_MAX_DEPTH;
    this.maxLength = config.maxLength ?? DEFAULT_PARTIAL_JSON_MAX_LENGTH;
  }

  /**
   * Parses the next piece of text. Returns whether `value` changed; then the
   * previous `value` is left as it was. Throws a {@link PartialJsonError} at
   * the first character that cannot continue the JSON.
   */
  push(delta: string): boolean {
    if (this.state === FAILED) throw new Error('PartialJsonParser: push after a failure');
    const offset = this.length;
    this.length += delta.length;
    this.pieces.push(delta);
    // Joined each time the text doubles: linear in all, and the pieces kept stay few.
    if (this.length >= 2 * this.joinedLength + JOIN_AT_LEAST) this.joinText();
    if (this.length > this.maxLength) {
      this.fail('too-long', this.maxLength, `JSON text longer than ${this.maxLength} characters`);
    }
    const length = delta.length;
    let at = 0;
    while (at < length) {
      const state = this.state;
      if (state === STRING) {
        at = this.readString(delta, at, offset);
        continue;
      }
      const code = delta.charCodeAt(at);
      if (state === NUMBER) {
        at = this.readNumber(delta, at, offset);
        continue;
      }
      if (state <= END && (code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09)) {
        at++;
        continue;
      }
      switch (state) {
        case VALUE:
        case ARRAY_START:
          if (state === ARRAY_START && code === 0x5d) this.close(false, delta, at, offset);
          else this.beginValue(code, delta, at, offset);
          break;
        case OBJECT_START:
        case KEY:
          if (code === QUOTE) this.beginString(true);
          else if (state === OBJECT_START && code === 0x7d) this.close(true, delta, at, offset);
          else this.unexpected(delta, at, offset);
          break;
        case COLON:
          if (code === 0x3a) this.state = VALUE;
          else this.unexpected(delta, at, offset);
          break;
        case AFTER_VALUE:
          if (code === 0x2c) this.state = this.isArray[this.depth - 1] ? VALUE : KEY;
          else if (code === 0x5d || code === 0x7d) this.close(code === 0x7d, delta, at, offset);
          else this.unexpected(delta, at, offset);
          break;
        case ESCAPE:
          this.readEscape(code, delta, at, offset);
          break;
        case UNICODE:
          this.readUnicodeDigit(code, delta, at, offset);
          break;
        case LITERAL:
          if (code !== this.literal.charCodeAt(this.literalIndex)) this.unexpected(delta, at, offset);
          if (++this.literalIndex === this.literal.length) this.complete(this.literalValue);
          break;
        default: // END
          this.unexpected(delta, at, offset);
      }
      at++;
    }
    if (this.state >= STRING && this.state <= UNICODE && !this.stringIsKey) this.publishString();
    return this.handOut();
  }

  /** The text has ended: completes a number at the top level, or throws a {@link PartialJsonError} when the JSON is unfinished. */
  end(): boolean {
    if (this.state === NUMBER && this.depth === 0 && isNumberComplete(this.numberState)) this.completeNumber();
    if (this.state !== END) {
      const reason = this.length === 0 ? 'No JSON value: the text is empty' : `JSON ended unfinished, ${this.where()}`;
      this.fail('unfinished', this.length, reason);
    }
    return this.handOut();
  }

  /** Everything pushed so far. */
  get text(): string {
    if (this.pieces.length > 1) this.joinText();
    return this.pieces[0] ?? '';
  }

  private joinText(): void {
    this.pieces = [this.pieces.join('')];
    this.joinedLength = this.length;
  }

  private handOut(): boolean {
    if (!this.changed) return false;
    this.changed = false;
    // From now on the containers handed out are copied before they change.
    this.ownedDepth = 0;
    return true;
  }

  private beginValue(code: number, delta: string, at: number, offset: number): void {
    switch (code) {
      case 0x7b:
      case 0x5b:
        this.open(code === 0x5b, offset + at);
        return;
      case QUOTE:
        this.beginString(false);
        return;
      case 0x74:
        this.beginLiteral('true', true);
        return;
      case 0x66:
        this.beginLiteral('false', false);
        return;
      case 0x6e:
        this.beginLiteral('null', null);
        return;
      case 0x2d:
        this.beginNumber(N_MINUS);
        return;
      default:
        if (code >= 0x30 && code <= 0x39) this.beginNumber(code === 0x30 ? N_ZERO : N_INT, delta[at]);
        // RFC 8259 lets a parser ignore a byte order mark before the text.
        else if (code !== BOM || offset + at !== 0) this.unexpected(delta, at, offset);
    }
  }

  private open(isArray: boolean, position: number): void {
    if (this.depth >= this.maxDepth) this.fail('too-deep', position, `JSON nests deeper than ${this.maxDepth} levels`);
    const container: Container = isArray ? [] : {};
    this.attach(container);
    this.containers[this.depth] = container;
    this.isArray[this.depth] = isArray;
    this.depth++;
    this.ownedDepth = this.depth;
    this.state = isArray ? ARRAY_START : OBJECT_START;
  }

  private close(isObject: boolean, delta: string, at: number, offset: number): void {
    if (this.depth === 0 || this.isArray[this.depth - 1] === isObject) this.unexpected(delta, at, offset);
    this.depth--;
    if (this.ownedDepth > this.depth) this.ownedDepth = this.depth;
    this.state = this.depth === 0 ? END : AFTER_VALUE;
  }

  private beginString(isKey: boolean): void {
    this.string = '';
    this.flatLength = 0;
    this.pendingHigh = '';
    this.stringIsKey = isKey;
    this.publishedLength = 0;
    this.state = STRING;
    if (!isKey) this.attach('');
  }

  /** Reads a run of plain characters up to a quote, a backslash or a control character; returns where it stopped. */
  private readString(delta: string, at: number, offset: number): number {
    const start = at;
    const length = delta.length;
    let code = 0;
    while (at < length) {
      code = delta.charCodeAt(at);
      if (code === QUOTE || code === BACKSLASH || code < 0x20) break;
      at++;
    }
    if (at > start) this.append(start === 0 && at === length ? delta : delta.slice(start, at));
    if (at === length) return at;
    if (code === BACKSLASH) this.state = ESCAPE;
    else if (code === QUOTE) this.endString();
    else this.fail('invalid', offset + at, `Invalid JSON: control character ${describe(delta[at])} in a string (it must be escaped)`);
    return at + 1;
  }

  private endString(): void {
    this.string += this.pendingHigh;
    this.pendingHigh = '';
    if (this.string.length > this.flatLength) this.flattenString();
    if (this.stringIsKey) {
      this.keys[this.depth - 1] = this.string;
      this.state = COLON;
      return;
    }
    this.publishString();
    this.afterValue();
  }

  /**
   * Appends to the string being read. Never reads a character of `string`
   * itself: that would flatten the growing rope, copying it on every delta.
   */
  private append(piece: string): void {
    if (this.pendingHigh) {
      piece = this.pendingHigh + piece;
      this.pendingHigh = '';
    }
    const last = piece.charCodeAt(piece.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) {
      this.pendingHigh = piece.slice(-1);
      piece = piece.slice(0, -1);
    }
    this.string += piece;
    if (this.string.length >= 2 * this.flatLength + FLATTEN_AT_LEAST) this.flattenString();
  }

  /**
   * Makes the growing string flat again (V8 flattens a rope in place when a
   * character is read), each time its length doubles and when it ends: the
   * rope's nodes become garbage instead of a chain every GC must copy.
   */
  private flattenString(): void {
    void this.string.charCodeAt(0);
    this.flatLength = this.string.length;
  }

  /** Shows the string value so far in `value`. */
  private publishString(): void {
    if (this.string.length === this.publishedLength) return;
    this.publishedLength = this.string.length;
    this.replace(this.string);
  }

  private readEscape(code: number, delta: string, at: number, offset: number): void {
    const char = ESCAPES[code];
    if (char !== undefined) {
      this.append(char);
      this.state = STRING;
    } else if (code === 0x75) {
      this.unicodeDigits = 0;
      this.unicodeCode = 0;
      this.state = UNICODE;
    } else {
      this.fail('invalid', offset + at, `Invalid JSON: unknown escape \\${delta[at]} in a string`);
    }
  }

  private readUnicodeDigit(code: number, delta: string, at: number, offset: number): void {
    const digit = hexDigit(code);
    if (digit < 0) this.fail('invalid', offset + at, `Invalid JSON: ${describe(delta[at])} in a \\u escape (a hex digit expected)`);
    this.unicodeCode = this.unicodeCode * 16 + digit;
    if (++this.unicodeDigits === 4) {
      this.append(String.fromCharCode(this.unicodeCode));
      this.state = STRING;
    }
  }

  private beginNumber(numberState: number, firstDigit = '-'): void {
    this.number = firstDigit;
    this.numberState = numberState;
    this.state = NUMBER;
  }

  /** Reads number characters; at the first character that ends the number, completes it and returns there. */
  private readNumber(delta: string, at: number, offset: number): number {
    const start = at;
    const length = delta.length;
    let numberState = this.numberState;
    for (; at < length; at++) {
      const code = delta.charCodeAt(at);
      const next = nextNumberState(numberState, code);
      if (next < 0) break;
      numberState = next;
    }
    this.numberState = numberState;
    if (at > start) this.number += delta.slice(start, at);
    if (at === length) return at;
    const code = delta.charCodeAt(at);
    // A digit after a leading zero, or a character where the grammar needs a digit, sign or more.
    if (!isNumberComplete(numberState) || (code >= 0x30 && code <= 0x39)) this.unexpected(delta, at, offset);
    this.completeNumber();
    return at;
  }

  private completeNumber(): void {
    this.complete(Number(this.number));
  }

  private beginLiteral(literal: string, value: JsonValue): void {
    this.literal = literal;
    this.literalValue = value;
    this.literalIndex = 1;
    this.state = LITERAL;
  }

  /** A number or literal is complete: it appears in `value`. */
  private complete(value: JsonValue): void {
    this.attach(value);
    this.afterValue();
  }

  private afterValue(): void {
    this.state = this.depth === 0 ? END : AFTER_VALUE;
  }

  /** Adds a new value to the innermost container (or makes it the root). */
  private attach(value: JsonValue): void {
    this.changed = true;
    const depth = this.depth;
    if (depth === 0) {
      this.value = value;
      return;
    }
    this.own(depth);
    const container = this.containers[depth - 1];
    if (this.isArray[depth - 1]) (container as JsonValue[]).push(value);
    else setOwnKey(container as Record<string, JsonValue>, this.keys[depth - 1], value);
  }

  /** Replaces the value being read (a growing string) in the innermost container. */
  private replace(value: JsonValue): void {
    this.changed = true;
    const depth = this.depth;
    if (depth === 0) {
      this.value = value;
      return;
    }
    this.own(depth);
    this.setChild(depth - 1, value);
  }

  /** Copies the containers from the root to level `depth - 1` that were handed out, linking each copy into its parent. */
  private own(depth: number): void {
    for (let level = this.ownedDepth; level < depth; level++) {
      const container = this.containers[level];
      const copy: Container = this.isArray[level] ? (container as JsonValue[]).slice() : { ...container };
      this.containers[level] = copy;
      if (level === 0) this.value = copy;
      else this.setChild(level - 1, copy);
    }
    if (depth > this.ownedDepth) this.ownedDepth = depth;
  }

  /** Sets the child being read at `level`: an array's last element, or the object's current key. */
  private setChild(level: number, value: JsonValue): void {
    const container = this.containers[level];
    if (this.isArray[level]) {
      const array = container as JsonValue[];
      array[array.length - 1] = value;
    } else {
      setOwnKey(container as Record<string, JsonValue>, this.keys[level], value);
    }
  }

  private unexpected(delta: string, at: number, offset: number): never {
    const char = describe(delta[at]);
    const reason =
      this.state === END
        ? `Invalid JSON: unexpected ${char} after the JSON value`
        : `Invalid JSON: unexpected ${char} ${this.where()}, expected ${this.expected()}`;
    return this.fail('invalid', offset + at, reason);
  }

  private where(): string {
    switch (this.state) {
      case STRING:
      case ESCAPE:
      case UNICODE:
        return this.stringIsKey ? 'inside a key' : 'inside a string';
      case NUMBER:
        return `in the number ${JSON.stringify(this.number)}`;
      case LITERAL:
        return `in ${this.literal}`;
      default:
        if (this.depth === 0) return 'at the start';
        return this.isArray[this.depth - 1] ? 'in an array' : 'in an object';
    }
  }

  private expected(): string {
    switch (this.state) {
      case VALUE:
        return 'a value';
      case ARRAY_START:
        return 'a value or "]"';
      case OBJECT_START:
        return 'a key or "}"';
      case KEY:
        return 'a key';
      case COLON:
        return '":"';
      case AFTER_VALUE:
        return this.isArray[this.depth - 1] ? '"," or "]"' : '"," or "}"';
      case NUMBER:
        return isNumberComplete(this.numberState) ? 'the end of the number' : 'a digit';
      default:
        return JSON.stringify(this.literal[this.literalIndex]);
    }
  }

  private fail(problem: PartialJsonProblem, position: number, reason: string): never {
    this.state = FAILED;
    throw new PartialJsonError({ problem, position, text: this.text, reason });
  }
}

/** The next number state after `code`, or -1 when `code` cannot continue the number. */
function nextNumberState(state: number, code: number): number {
  const digit = code >= 0x30 && code <= 0x39;
  switch (state) {
    case N_MINUS:
      return digit ? (code === 0x30 ? N_ZERO : N_INT) : -1;
    case N_ZERO:
    case N_INT:
      if (digit) return state === N_INT ? N_INT : -1;
      if (code === 0x2e) return N_DOT;
      return code === 0x65 || code === 0x45 ? N_EXP : -1;
    case N_DOT:
      return digit ? N_FRAC : -1;
    case N_FRAC:
      if (digit) return N_FRAC;
      return code === 0x65 || code === 0x45 ? N_EXP : -1;
    case N_EXP:
      if (digit) return N_EXP_DIGITS;
      return code === 0x2b || code === 0x2d ? N_EXP_SIGN : -1;
    default: // N_EXP_SIGN, N_EXP_DIGITS
      return digit ? N_EXP_DIGITS : -1;
  }
}

function isNumberComplete(state: number): boolean {
  return state === N_ZERO || state === N_INT || state === N_FRAC || state === N_EXP_DIGITS;
}

function hexDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  return -1;
}

const ESCAPES: Record<number, string> = { 0x22: '"', 0x5c: '\\', 0x2f: '/', 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t' };

/** `obj[key] = value`, except that a `__proto__` key becomes an own property, as `JSON.parse` makes it. */
export function setOwnKey<T>(object: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
  else object[key] = value;
}

function describe(char: string): string {
  return JSON.stringify(char);
}
