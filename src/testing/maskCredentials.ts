import { CREDENTIAL_HEADERS, REDACTED } from '../redaction.js';

/**
 * Headers with lower-case names and every credential masked (`Bearer [redacted]`),
 * so that a recorded request can be logged, printed or snapshotted safely.
 */
export function maskCredentials(headers: Record<string, string | readonly string[] | undefined>): Record<string, string> {
  const masked: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const text = typeof value === 'string' ? value : value.join(', ');
    masked[key] = CREDENTIAL_HEADERS.has(key) ? maskCredential(text) : text;
  }
  return masked;
}

/** Keeps the scheme (`Bearer`) and hides the credential. */
function maskCredential(value: string): string {
  const scheme = /^(\S+)\s+\S/.exec(value)?.[1];
  return scheme ? `${scheme} ${REDACTED}` : REDACTED;
}
