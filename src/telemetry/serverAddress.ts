/** `server.address` and `server.port` of a request. */
export interface ServerAddress {
  address: string;
  port: number | undefined;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/**
 * The host and port `url` points to; a relative URL (a page's `/v1`) is read
 * against the page's location. `undefined` when it is no URL.
 *
 * @example
 * serverAddressOf('https://api.openai.com/v1') // { address: 'api.openai.com', port: 443 }
 */
export function serverAddressOf(url: string): ServerAddress | undefined {
  const parsed = parseURL(url) ?? parseURL(url, pageHref());
  if (!parsed) return undefined;
  const port = parsed.port ? Number(parsed.port) : DEFAULT_PORTS[parsed.protocol];
  // An IPv6 host comes in brackets; the attribute holds the address alone.
  return { address: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}

function parseURL(url: string, base?: string): URL | undefined {
  try {
    return new URL(url, base);
  } catch {
    return undefined;
  }
}

/** The page's address in a browser; `undefined` elsewhere (Deno throws on reading `location` unless started with one). */
function pageHref(): string | undefined {
  try {
    return globalThis.location?.href;
  } catch {
    return undefined;
  }
}
