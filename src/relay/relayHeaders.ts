/**
 * Upstream response headers that reach the client: the request id and the
 * rate-limit and retry hints a client needs to back off. Everything else
 * (`set-cookie`, `content-encoding`, hop-by-hop headers, server internals) is
 * dropped; an allow-list cannot leak a header nobody thought of.
 */
const FORWARDED = /^(?:x-request-id|retry-after|retry-after-ms|openai-processing-ms|x-ratelimit-[a-z0-9-]+)$/;

export function forwardedResponseHeaders(upstream: Record<string, string>): Record<string, string> {
  const forwarded: Record<string, string> = {};
  for (const name in upstream) {
    if (FORWARDED.test(name)) forwarded[name] = upstream[name];
  }
  return forwarded;
}

/** Response headers of a relayed event stream: no caching, no compression, no proxy buffering. */
export const EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
