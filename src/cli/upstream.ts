import { DEFAULT_BASE_URL } from '../client.js';
import { UNSENDABLE } from '../sse/sseFrames.js';
import { printableUrl, urlOption } from './args.js';
import { UsageError } from './exitCodes.js';

/** Pause between the embedded mock's tokens: 40 tokens/s, about the pace of a small hosted model. */
export const MOCK_TOKEN_DELAY_MS = 25;

/** Where requests go, and with which key. */
export interface Upstream {
  baseURL: string;
  apiKey: string | undefined;
  /** Where the key came from, for the start-up line (the key itself is never printed). */
  keySource: '--api-key' | 'OPENAI_API_KEY' | undefined;
}

export interface UpstreamFlags {
  url?: string;
  urlFlag: string;
  apiKey?: string;
  env: NodeJS.ProcessEnv;
  /** What else the command can do without a key, ending the no-key message: `use the embedded mock (--mock)`. */
  withoutKey: string;
}

/**
 * The upstream from the flags, else from `OPENAI_BASE_URL` / `OPENAI_API_KEY`,
 * else OpenAI. OpenAI itself without a key is a usage error; a local server
 * (Ollama, vLLM, a mock) may need none. A key that cannot be sent (a line
 * break in it) is a usage error naming where it came from, never quoting it.
 */
export function resolveUpstream(flags: UpstreamFlags): Upstream {
  const fromEnv = flags.env.OPENAI_BASE_URL || undefined;
  const baseURL = flags.url !== undefined ? urlOption(flags.url, flags.urlFlag) : fromEnv ? urlOption(fromEnv, 'OPENAI_BASE_URL') : DEFAULT_BASE_URL;
  const apiKey = flags.apiKey || flags.env.OPENAI_API_KEY || undefined;
  const keySource = flags.apiKey ? '--api-key' : apiKey ? 'OPENAI_API_KEY' : undefined;
  if (!apiKey && baseURL === DEFAULT_BASE_URL) {
    throw new UsageError(`no API key for ${DEFAULT_BASE_URL}: set OPENAI_API_KEY, pass --api-key, or ${flags.withoutKey}`);
  }
  if (apiKey && UNSENDABLE.test(apiKey)) {
    throw new UsageError(`the API key from ${keySource} contains a line break or a NUL character, which no HTTP header can carry (read from a file with its newline?)`);
  }
  return { baseURL, apiKey, keySource };
}

/** `https://api.openai.com/v1 (API key from OPENAI_API_KEY)`: never the key. */
export function describeUpstream(upstream: Upstream): string {
  const key = upstream.keySource ? `API key from ${upstream.keySource}` : 'no API key';
  return `${printableUrl(upstream.baseURL)} (${key})`;
}
