import { splitTokens } from './tokens.js';

/**
 * How the mock upstream answers one request. Set for every request through
 * `startMockUpstream({ behavior })`, or per request with `[[mock:…]]`
 * directives in the last user message (which win).
 */
export interface MockBehavior {
  /** The whole answer text. Default: a deterministic answer derived from the prompt. */
  text?: string;
  /** Length of the derived answer in tokens (ignored when `text` is set). */
  tokens?: number;
  /** Pause before each token. */
  tokenDelayMs?: number;
  /** Answer with this HTTP status and an OpenAI-shaped error body instead. */
  error?: number;
  /** `retry-after` header value sent with `error`: seconds, or an HTTP date. */
  retryAfter?: string;
  /** `retry-after-ms` header value sent with `error`. */
  retryAfterMs?: number;
  /** `x-should-retry` header sent with `error`. */
  shouldRetry?: boolean;
  /** `'headers'`: never answer. A number N: send the headers and N tokens, then nothing until the client leaves. */
  stall?: 'headers' | number;
  /** Destroy the socket after N tokens (0: right after the headers). */
  cutAfter?: number;
  /** Send an in-stream error event after N tokens (0: as the first event), then end the stream. */
  errorAfter?: number;
  /** The faults above (error, stall, cut, error-mid-stream) apply only to the first N requests with the same body. */
  times?: number;
  /**
   * Two tool calls in one turn (unless the request says `parallel_tool_calls: false`): the first two tools
   * offered, or the only one twice, the first call for the prompt up to its first `and` or comma, the second for the rest.
   */
  parallel?: boolean;
  /** How many turns of tool calls the model makes before it answers the results with text; default 1. */
  toolRounds?: number;
}

/** A `[[mock:…]]` directive the mock upstream does not understand; answered with HTTP 400. */
export class MockDirectiveError extends Error {
  override name = 'MockDirectiveError';
}

const DIRECTIVE = /\[\[mock:([a-z-]+)(?:=([^\]]*))?\]\]/g;

/** Reads the `[[mock:…]]` directives of a prompt; `prompt` is the text without them. */
export function parseDirectives(text: string): { behavior: MockBehavior; prompt: string } {
  const behavior: MockBehavior = {};
  for (const [, name, value] of text.matchAll(DIRECTIVE)) applyDirective(behavior, name, value);
  return { behavior, prompt: text.replace(DIRECTIVE, ' ').replace(/\s+/g, ' ').trim() };
}

/** Marks "half of the answer" for `cut` and `error-mid-stream` without a count. */
export const HALFWAY = -1;

function applyDirective(behavior: MockBehavior, name: string, value: string | undefined): void {
  switch (name) {
    case 'text':
      behavior.text = value ?? '';
      return;
    case 'tokens':
      behavior.tokens = count(name, value);
      return;
    case 'delay':
      behavior.tokenDelayMs = count(name, value);
      return;
    case 'error':
      behavior.error = status(value);
      return;
    case 'retry-after':
      behavior.retryAfter = required(name, value);
      return;
    case 'retry-after-ms':
      behavior.retryAfterMs = count(name, value);
      return;
    case 'should-retry':
      if (value !== 'true' && value !== 'false') throw new MockDirectiveError(`[[mock:should-retry]] takes true or false, got ${value}`);
      behavior.shouldRetry = value === 'true';
      return;
    case 'stall':
      behavior.stall = value === 'headers' ? 'headers' : value === undefined ? 0 : count(name, value);
      return;
    case 'cut':
      behavior.cutAfter = value === undefined ? HALFWAY : count(name, value);
      return;
    case 'error-mid-stream':
      behavior.errorAfter = value === undefined ? HALFWAY : count(name, value);
      return;
    case 'times':
      behavior.times = count(name, value);
      return;
    case 'parallel':
      behavior.parallel = true;
      return;
    case 'tool-rounds':
      behavior.toolRounds = count(name, value);
      return;
    default:
      throw new MockDirectiveError(`Unknown mock directive [[mock:${name}]]`);
  }
}

function required(name: string, value: string | undefined): string {
  if (value === undefined || value.trim() === '') throw new MockDirectiveError(`[[mock:${name}=…]] needs a value`);
  return value.trim();
}

function count(name: string, value: string | undefined): number {
  const number = Number(required(name, value));
  if (!Number.isInteger(number) || number < 0) throw new MockDirectiveError(`[[mock:${name}]] takes a whole number ≥ 0, got ${value}`);
  return number;
}

function status(value: string | undefined): number {
  const code = Number(value);
  if (!Number.isInteger(code) || code < 400 || code > 599) throw new MockDirectiveError(`[[mock:error]] takes an HTTP status 400–599, got ${value}`);
  return code;
}

// Any lead, subject, predicate and ending make a sentence that reads like part of an answer about streams.
const LEADS = ['In practice,', 'Put simply,', 'As a rule,', 'In other words,', 'For a chat app,', 'Most of the time,', 'Better still,', 'Either way,'];
const SUBJECTS = ['a cold observable', 'the stream', 'the request', 'each pipeline', 'the producer', 'the source', 'the model call', 'the whole chain'];
const PREDICATES = [
  'starts only when someone subscribes',
  'does nothing until it is needed',
  'ends as soon as nobody listens',
  'hands over its values in order',
  'can be repeated from a clean start',
  'cleans up after itself',
  'runs once for every subscriber',
  'finishes with a clear result',
];
const ENDINGS = ['', ', so nothing is wasted', ', with no extra code', ', which keeps the page responsive', ', even on a slow network'];

/**
 * The simulated model's answer: an opening that names `topic`, then
 * sentences picked by a generator seeded from it, so the same prompt always
 * gets the same answer. With `tokens`, the answer is exactly that many tokens.
 */
export function derivedAnswer(topic: string, opening: string, tokens?: number): string {
  const random = seededRandom(topic);
  const pick = (words: readonly string[]) => words[Math.floor(random() * words.length)];
  const sentence = () => ` ${pick(LEADS)} ${pick(SUBJECTS)} ${pick(PREDICATES)}${pick(ENDINGS)}.`;
  let text = opening;
  if (tokens === undefined) {
    const sentences = 2 + Math.floor(random() * 3);
    for (let i = 0; i < sentences; i++) text += sentence();
    return text;
  }
  // Sentences start with a space and end with a period, so their tokens can be counted one sentence at a time.
  const pieces = splitTokens(text);
  while (pieces.length < tokens) pieces.push(...splitTokens(sentence()));
  return pieces.slice(0, tokens).join('');
}

/** The opening line of an answer to `prompt`. */
export function answerOpening(prompt: string): string {
  return prompt ? `Mock answer to "${excerpt(prompt)}".` : 'Mock answer.';
}

/** The opening line of an answer that follows tool results: `The tool returned …` (`The tools returned … and …`). */
export function toolResultOpening(outputs: readonly string[]): string {
  const quoted = outputs.map((output) => excerpt(output) || 'nothing');
  return outputs.length > 1 ? `The tools returned ${quoted.join(' and ')}.` : `The tool returned ${quoted[0] ?? 'nothing'}.`;
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 60 ? `${flat.slice(0, 60)}…` : flat;
}

/** mulberry32 seeded with FNV-1a of the text: small, fast and the same on every platform. */
function seededRandom(text: string): () => number {
  let seed = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) seed = Math.imul(seed ^ text.charCodeAt(i), 0x01000193);
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
