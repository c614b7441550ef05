/*
 * Random JSON for property tests of streaming parsers: values, texts that
 * write them in every way JSON allows (whitespace, escapes, number forms), and
 * random cuts of a text into deltas. Seeded: a failing seed replays exactly.
 */

export interface SeededRandom {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
}

/** splitmix32: a tiny, well-mixed generator; the same seed gives the same sequence everywhere. */
export function seededRandom(seed: number): SeededRandom {
  let state = seed | 0;
  const next = () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return ((z ^ (z >>> 15)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return { next, int, chance: (probability) => next() < probability, pick: (items) => items[int(0, items.length - 1)] };
}

/** Characters that exercise a JSON string: escapes, controls, non-ASCII, a surrogate pair, a lone surrogate. */
const CHARACTERS = ['a', 'Z', ' ', '"', '\\', '/', '\n', '\t', '\u0001', '\u001f', 'é', 'ß', '中', '😀', '\ud83d', '\ufeff', '\u2028', '{', ']', ',', ':'];

export function randomString(random: SeededRandom, maxLength = 12): string {
  let text = '';
  for (let i = random.int(0, maxLength); i > 0; i--) text += random.pick(CHARACTERS);
  return text;
}

function randomNumber(random: SeededRandom): number {
  switch (random.int(0, 4)) {
    case 0:
      return random.int(-1000, 1000);
    case 1:
      return (random.next() - 0.5) * 10 ** random.int(-12, 12);
    case 2:
      return random.pick([0, -0.5, 1e21, 1.5e-7, Number.MAX_SAFE_INTEGER, -Number.MIN_VALUE, 123456789.125]);
    default:
      return random.int(0, 9);
  }
}

/** A random JSON value nesting at most `maxDepth` containers; object keys are distinct. */
export function randomJsonValue(random: SeededRandom, maxDepth = 4): unknown {
  const roll = random.next();
  if (maxDepth === 0 || roll < 0.45) {
    return random.pick([() => null, () => true, () => false, () => randomNumber(random), () => randomString(random)])();
  }
  const size = random.int(0, 5);
  if (roll < 0.7) return Array.from({ length: size }, () => randomJsonValue(random, maxDepth - 1));
  const object: Record<string, unknown> = {};
  for (let i = 0; i < size; i++) {
    const key = randomString(random, 6);
    if (!(key in object)) Object.defineProperty(object, key, { value: randomJsonValue(random, maxDepth - 1), enumerable: true, writable: true, configurable: true });
  }
  return object;
}

/** JSON text of `value`, written with random whitespace, escapes (`\u00e9`, `\/`) and number forms (`1E+2`). */
export function writeJson(random: SeededRandom, value: unknown): string {
  const space = () => (random.chance(0.3) ? random.pick([' ', '\n', '\t', '\r\n  ', '  ']) : '');
  // An explicit stack of pieces still to write keeps deep values off the call stack.
  const out: string[] = [];
  const todo: unknown[] = [value];
  const literal = (text: string) => new Written(text);
  while (todo.length > 0) {
    const item = todo.pop();
    if (item instanceof Written) {
      out.push(item.text);
    } else if (typeof item === 'string') {
      out.push(writeString(random, item));
    } else if (typeof item === 'number') {
      out.push(writeNumber(random, item));
    } else if (Array.isArray(item)) {
      const parts: unknown[] = [literal(`[${space()}`)];
      item.forEach((element, index) => parts.push(...(index > 0 ? [literal(`${space()},${space()}`)] : []), element));
      parts.push(literal(`${space()}]`));
      todo.push(...parts.reverse());
    } else if (item !== null && typeof item === 'object') {
      const parts: unknown[] = [literal(`{${space()}`)];
      Object.keys(item).forEach((key, index) => {
        if (index > 0) parts.push(literal(`${space()},${space()}`));
        parts.push(literal(`${writeString(random, key)}${space()}:${space()}`), (item as Record<string, unknown>)[key]);
      });
      parts.push(literal(`${space()}}`));
      todo.push(...parts.reverse());
    } else {
      out.push(JSON.stringify(item));
    }
  }
  return `${space()}${out.join('')}${space()}`;
}

/** Text already written, among the values still to write. */
class Written {
  constructor(readonly text: string) {}
}

function writeString(random: SeededRandom, text: string): string {
  let out = '"';
  for (const char of text.split('')) {
    const code = char.charCodeAt(0);
    const plain = char !== '"' && char !== '\\' && code >= 0x20;
    if (plain && !random.chance(0.15)) out += char;
    else if (random.chance(0.5) && SHORT_ESCAPES[char]) out += SHORT_ESCAPES[char];
    else out += `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return `${out}"`;
}

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '/': '\\/', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function writeNumber(random: SeededRandom, number: number): string {
  const text = JSON.stringify(number);
  if (!random.chance(0.3) || !Number.isFinite(number) || number === 0) return text;
  return random.chance(0.5) ? number.toExponential().toUpperCase() : number.toExponential();
}

/** `text` cut at random places into deltas of at most `maxLength` characters, some of them empty. */
export function randomDeltas(random: SeededRandom, text: string, maxLength = 8): string[] {
  const deltas: string[] = [];
  for (let at = 0; at < text.length; ) {
    const length = random.chance(0.05) ? 0 : random.int(1, maxLength);
    deltas.push(text.slice(at, at + length));
    at += length;
  }
  return deltas;
}
