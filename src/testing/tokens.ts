/*
 * Token-sized pieces of text, roughly as a BPE tokenizer cuts English: a word
 * with its leading space (long words in pieces of five letters), up to three
 * digits, or one other character. Joined, the pieces give back the text exactly.
 */
const TOKEN = /\s*(?:\p{L}{1,5}|\p{N}{1,3}|[^\s\p{L}\p{N}])|\s+/gu;

/**
 * Splits text into realistic token-sized deltas, for scripted streams.
 *
 * @example
 * splitTokens('Hello, world'); // ['Hello', ',', ' world']
 * sseText(chatFrames({ content: splitTokens(answer) }));
 */
export function splitTokens(text: string): string[] {
  return text.match(TOKEN) ?? [];
}
