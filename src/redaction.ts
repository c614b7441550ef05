/*
 * Keeping credentials out of everything openai-rx hands back: errors, relay
 * answers, audit summaries. Servers sometimes echo a key in an error body or a
 * header; whatever carries such text passes through a {@link Redactor} first.
 */

/** What a credential is replaced with. */
export const REDACTED = '[redacted]';

/** Request headers whose values are credentials, in lower case. */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'api-key', 'x-api-key']);

/** Ends text that an error message quotes only in part; a redactor knows it. */
export const CUT_MARK = '…';

/** A secret cut this short or shorter by an excerpt is left alone: so few characters reveal nothing. */
const MIN_CUT_SECRET = 4;

/** The credentials a request sends: each credential header's value, and a bearer or basic token alone. */
export function credentialsIn(headers: Record<string, string>): string[] {
  const secrets: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (!value || !CREDENTIAL_HEADERS.has(name.toLowerCase())) continue;
    secrets.push(value);
    const token = /^\s*(?:bearer|basic)\s+(\S.*)$/i.exec(value)?.[1];
    if (token) secrets.push(token);
  }
  return secrets;
}

export interface Redactor {
  /** Whether there is anything to redact at all. */
  readonly active: boolean;
  /** `text` with every secret replaced, including the beginning of one that an excerpt (`…`) cut short. */
  text(text: string): string;
  /**
   * Replaces the secrets in every string an error holds (message, stack, body,
   * headers, data, partial results, causes), in place, and returns it. The walk
   * is iterative: a body nested thousands of levels deep cannot overflow the stack.
   */
  error<E>(error: E): E;
}

/** A redactor for `secrets`; empty strings are ignored, and a secret containing another is covered by it. */
export function createRedactor(secrets: readonly (string | undefined)[]): Redactor {
  const distinct = [...new Set(secrets.filter((secret): secret is string => Boolean(secret)))];
  // `Bearer sk-…` contains `sk-…`: redacting the inner one covers both, in fewer passes.
  const innermost = distinct.filter((secret) => !distinct.some((other) => other !== secret && secret.includes(other)));
  const text = (value: string) => innermost.reduce(redactText, value);
  return {
    active: innermost.length > 0,
    text,
    error: (error) => {
      if (innermost.length > 0 && isError(error)) scrub(error, text);
      return error;
    },
  };
}

/** Errors from Node's core or another realm are not `instanceof` this realm's `Error`. */
function isError(value: unknown): value is Error {
  return value instanceof Error || Object.prototype.toString.call(value) === '[object Error]';
}

/** Every string reachable from `root` through own keys (and an error's message, stack and cause), rewritten in place. */
function scrub(root: object, redact: (text: string) => string): void {
  const seen = new Set<object>([root]);
  const pending: object[] = [root];
  for (let value = pending.pop(); value !== undefined; value = pending.pop()) {
    const target = value as Record<string, unknown>;
    const keys = isError(value) ? ['message', 'stack', 'cause', ...Object.keys(value)] : Object.keys(value);
    for (const key of keys) {
      const child = target[key];
      if (typeof child === 'string') {
        const redacted = redact(child);
        if (redacted !== child) assign(target, key, redacted);
      } else if (typeof child === 'object' && child !== null && !seen.has(child)) {
        seen.add(child);
        pending.push(child);
      }
    }
  }
}

function assign(target: Record<string, unknown>, key: string, value: string): void {
  try {
    target[key] = value;
  } catch {
    // A frozen object cannot hold the key in a new place; leave it.
  }
}

function redactText(text: string, secret: string): string {
  let result = text.includes(secret) ? text.split(secret).join(REDACTED) : text;
  for (let cut = result.indexOf(CUT_MARK); cut !== -1; cut = result.indexOf(CUT_MARK, cut + 1)) {
    for (let length = Math.min(secret.length - 1, cut); length > MIN_CUT_SECRET; length--) {
      if (result.startsWith(secret.slice(0, length), cut - length)) {
        result = result.slice(0, cut - length) + REDACTED + result.slice(cut);
        cut += REDACTED.length - length;
        break;
      }
    }
  }
  return result;
}
