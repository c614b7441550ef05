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
  let parsed: URL;
  try {
    parsed = new URL(url, globalThis.location?.href);
  } catch {
    return undefined;
  }
  const port = parsed.port ? Number(parsed.port) : DEFAULT_PORTS[parsed.protocol];
  // An IPv6 host comes in brackets; the attribute holds the address alone.
  return { address: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}
