import { RelayRejection } from './relayErrors.js';

/**
 * Which browser origins may call the relay:
 * - `true`: any origin (answered with `Access-Control-Allow-Origin: *`);
 * - an origin such as `'https://app.example.com'` (scheme://host[:port], exactly as browsers send it);
 * - a RegExp, which must match the whole origin (it is anchored for you);
 * - a list of origins and RegExps;
 * - a function, which allows an origin by returning (or resolving to) exactly `true`.
 *
 * `'null'` (sandboxed iframes, `file://` pages) is shared by every opaque origin, so it is allowed only when named:
 * by `true`, by the string `'null'` in the option, or by a function that returns `true` for it. RegExps never see it.
 */
export type CorsOrigins<Req> =
  | true
  | string
  | RegExp
  | readonly (string | RegExp)[]
  | ((origin: string, request: Req) => boolean | Promise<boolean>);

export interface CorsConfig<Req> {
  origin: CorsOrigins<Req>;
  /**
   * Lets pages send cookies (`credentials: 'include'`) and read the answer: `Access-Control-Allow-Credentials: true`.
   * Not with `origin: true`: that would let every site act as your signed-in users.
   */
  credentials?: boolean;
  /** How long browsers may reuse a preflight's answer; default 7200 (Chromium's cap; Firefox's is 86 400). */
  maxAgeSeconds?: number;
  /** Request headers pages may send besides the default list (`authorization`, `content-type`, OpenAI SDK headers…). */
  allowHeaders?: readonly string[];
  /** Response headers pages may read besides the relay's (`x-request-id`, rate limits, retry hints, `x-stream-id`). */
  exposeHeaders?: readonly string[];
}

/** The relay's `cors` option: `false` (the default) answers no preflight and adds no header. */
export type RelayCorsOption<Req> = boolean | CorsOrigins<Req> | CorsConfig<Req>;

/** What a preflight check needs of the request: its method and three header values as received. */
export interface CorsRequest<Req> {
  method: string;
  origin: string | undefined;
  /** `Access-Control-Request-Method`. */
  requestMethod: string | undefined;
  /** `Access-Control-Request-Headers`. */
  requestHeaders: string | undefined;
  request: Req;
}

/** The relay's own answer to a preflight: no body. */
export interface CorsPreflightAnswer {
  status: 204;
  headers: Record<string, string>;
}

export interface CorsPolicy<Req> {
  /**
   * `undefined` when the request is no preflight (carry on); the 204 for an allowed origin; rejects with a
   * {@link RelayRejection} (403 `origin_not_allowed`) for a refused one. Never contacts upstream.
   */
  preflight(request: CorsRequest<Req>): Promise<CorsPreflightAnswer | undefined>;
  /**
   * Headers to add to every other answer to the request: JSON, errors and event streams. Empty without `Origin`
   * (curl, servers); only `Vary: Origin` for a refused origin.
   */
  responseHeaders(origin: string | undefined, request: Req): Promise<Record<string, string>>;
}

/** The methods of the relay's routes (POST generations and cancels, GET models and streams), and OPTIONS for preflights. */
const ALLOW_METHODS = 'POST, GET, OPTIONS';
const DEFAULT_MAX_AGE_SECONDS = 7200;
const MAX_MAX_AGE_SECONDS = 86_400;

/**
 * Request headers a page may send: its own credentials for whatever authenticates it in front of the relay, the
 * content type, resume headers, and what the OpenAI SDK sends from a browser. The relay forwards none of them
 * upstream; listing them is what lets the SDK through the preflight.
 */
const ALLOW_HEADERS = [
  'authorization',
  'content-type',
  'accept',
  'accept-language',
  'content-language',
  'x-request-id',
  'x-stream-id',
  'last-event-id',
  'openai-organization',
  'openai-project',
  'openai-beta',
  'idempotency-key',
];
/** The OpenAI SDK's telemetry headers (`x-stainless-lang`, `-os`, `-retry-count`, `-timeout`…); the set grows. */
const ALLOW_HEADER_PREFIX = 'x-stainless-';

/**
 * What the relay forwards from upstream (see relayHeaders.ts) plus its resume header, by name: `*` does not
 * expose anything to a credentialed request, and `Access-Control-Expose-Headers` takes no patterns.
 */
const EXPOSE_HEADERS = [
  'x-request-id',
  'x-stream-id',
  'retry-after',
  'retry-after-ms',
  'openai-processing-ms',
  'x-ratelimit-limit-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-requests',
  'x-ratelimit-reset-tokens',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
];

/** A serialized origin as browsers send it: scheme://host[:port]; no path, user-info, space, comma or control character. */
const ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/[\w.~%!$&'()*+;=:[\]-]+$/i;
/** Longer than any real origin (a DNS name has at most 253 characters). */
const MAX_ORIGIN_CHARS = 512;
/** An HTTP field name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]{1,128}$/;
/** More names than any real preflight asks for; the rest of a longer list is not looked at. */
const MAX_REQUESTED_HEADERS = 64;

type OriginCheck<Req> = (origin: string, request: Req) => boolean | Promise<boolean>;

/**
 * The relay's CORS policy, independent of the HTTP stack; `undefined` when `option` is off. Throws a
 * `TypeError` for an option that cannot mean what it says (a path in an origin, credentials for any origin).
 * `report` (default `console.error`; the relay passes its `onError`) receives what a throwing or rejecting origin
 * function threw; the origin is then refused.
 *
 * @example
 * const cors = corsPolicy<Request>({ origin: ['https://app.example.com', /https:\/\/[a-z0-9-]+\.preview\.example\.com/] }, console.error);
 * const origin = request.headers.get('origin') ?? undefined;
 * const preflight = await cors?.preflight({
 *   method: request.method,
 *   origin,
 *   requestMethod: request.headers.get('access-control-request-method') ?? undefined,
 *   requestHeaders: request.headers.get('access-control-request-headers') ?? undefined,
 *   request,
 * });
 * if (preflight) return new Response(null, preflight);
 * const headers = { ...answerHeaders, ...(await cors?.responseHeaders(origin, request)) };
 */
export function corsPolicy<Req>(
  option: RelayCorsOption<Req> | undefined,
  report: (error: unknown) => void = console.error,
): CorsPolicy<Req> | undefined {
  if (option === undefined || option === false) return undefined;
  const config = isConfig(option) ? option : { origin: option };
  const anyOrigin = config.origin === true;
  const credentials = config.credentials === true;
  if (anyOrigin && credentials) {
    throw new TypeError('CORS credentials for any origin (true) would let every site act as your users; list the origins instead');
  }
  const check = originCheck(config.origin);
  const allowHeaders = new Set([...ALLOW_HEADERS, ...headerNames(config.allowHeaders, 'allowHeaders')]);
  const exposeHeaders = [...new Set([...EXPOSE_HEADERS, ...headerNames(config.exposeHeaders, 'exposeHeaders')])].join(', ');
  const maxAge = String(maxAgeOf(config.maxAgeSeconds));
  // `*` is the same answer for every origin; an echoed origin must not be served from a cache to another one.
  const varyOrigin: Record<string, string> = anyOrigin ? {} : { vary: 'Origin' };

  const allows = async (origin: string, request: Req): Promise<boolean> => {
    if (!isOrigin(origin)) return false;
    try {
      return (await check(origin, request)) === true;
    } catch (error) {
      try {
        report(error);
      } catch {
        // A failing report cannot be reported; the origin stays refused either way.
      }
      return false;
    }
  };
  const allowedOriginHeaders = (origin: string): Record<string, string> => ({
    'access-control-allow-origin': anyOrigin ? '*' : origin,
    ...(credentials ? { 'access-control-allow-credentials': 'true' } : {}),
  });

  return {
    async preflight({ method, origin, requestMethod, requestHeaders, request }) {
      if (method !== 'OPTIONS' || origin === undefined || requestMethod === undefined) return undefined;
      if (!(await allows(origin, request))) {
        throw new RelayRejection({
          status: 403,
          message: "This origin is not allowed by the relay's CORS policy.",
          code: 'origin_not_allowed',
          headers: { ...varyOrigin },
        });
      }
      const granted = requestedHeaderNames(requestHeaders).filter((name) => allowHeaders.has(name) || name.startsWith(ALLOW_HEADER_PREFIX));
      return {
        status: 204,
        headers: {
          ...allowedOriginHeaders(origin),
          'access-control-allow-methods': ALLOW_METHODS,
          ...(granted.length > 0 ? { 'access-control-allow-headers': granted.join(', ') } : {}),
          'access-control-max-age': maxAge,
          vary: anyOrigin ? 'Access-Control-Request-Headers' : 'Origin, Access-Control-Request-Headers',
        },
      };
    },
    async responseHeaders(origin, request) {
      if (origin === undefined) return {};
      if (!(await allows(origin, request))) return { ...varyOrigin };
      return { ...allowedOriginHeaders(origin), 'access-control-expose-headers': exposeHeaders, ...varyOrigin };
    },
  };
}

function isConfig<Req>(option: RelayCorsOption<Req>): option is CorsConfig<Req> {
  return typeof option === 'object' && !Array.isArray(option) && !(option instanceof RegExp);
}

/** Whether a received `Origin` is one a browser could have sent; nothing else is matched, echoed or passed on. */
function isOrigin(origin: string): boolean {
  return origin === 'null' || (origin.length <= MAX_ORIGIN_CHARS && ORIGIN.test(origin));
}

function originCheck<Req>(origins: CorsOrigins<Req>): OriginCheck<Req> {
  if (origins === true) return () => true;
  if (typeof origins === 'function') return origins;
  const listed: readonly unknown[] = Array.isArray(origins) ? origins : [origins];
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  for (const entry of listed) {
    if (typeof entry === 'string') exact.add(configuredOrigin(entry));
    else if (entry instanceof RegExp) patterns.push(anchored(entry));
    else throw new TypeError(`A CORS origin is a string, a RegExp, a list of them, a function or true, not ${typeof entry}`);
  }
  return (origin) => exact.has(origin) || (origin !== 'null' && patterns.some((pattern) => pattern.test(origin)));
}

/**
 * An origin from the option, checked so that a typo fails at startup instead of refusing every request: browsers
 * send `https://app.example.com`, never `https://app.example.com/` or `https://App.example.com:443`.
 */
function configuredOrigin(value: string): string {
  if (value === 'null') return value;
  if (value === '*') throw new TypeError("'*' is not a CORS origin; pass true to allow any origin");
  const serialized = serializedOrigin(value);
  if (ORIGIN.test(value) && (serialized === undefined || serialized === value)) return value;
  const hint = serialized === undefined ? '' : `; write '${serialized}'`;
  throw new TypeError(`'${value}' is not a CORS origin (scheme://host[:port], as browsers send it)${hint}`);
}

/** How browsers serialize the origin of `value`; `undefined` for schemes whose origin URL leaves opaque (`app://`). */
function serializedOrigin(value: string): string | undefined {
  try {
    const { origin } = new URL(value);
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

/**
 * `/https:\/\/app\.example\.com/` unanchored also matches `https://app.example.com.attacker.net`: a pattern
 * that must match the whole origin fails closed instead. `g` and `y` are dropped: they make `test` stateful.
 */
function anchored(pattern: RegExp): RegExp {
  return new RegExp(`^(?:${pattern.source})$`, pattern.flags.replace(/[gy]/g, ''));
}

function headerNames(names: readonly string[] | undefined, option: string): string[] {
  return (names ?? []).map((name) => {
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(lower)) throw new TypeError(`'${name}' is not a header name (CORS ${option})`);
    return lower;
  });
}

function maxAgeOf(seconds: number | undefined): number {
  if (seconds === undefined) return DEFAULT_MAX_AGE_SECONDS;
  if (Number.isInteger(seconds) && seconds >= 0 && seconds <= MAX_MAX_AGE_SECONDS) return seconds;
  throw new TypeError(`CORS maxAgeSeconds takes whole seconds from 0 to ${MAX_MAX_AGE_SECONDS}, not ${seconds}`);
}

/** `Access-Control-Request-Headers`, lowercased, without duplicates or anything that is not a header name. */
function requestedHeaderNames(value: string | undefined): string[] {
  if (value === undefined) return [];
  const names = value.split(',', MAX_REQUESTED_HEADERS).map((name) => name.trim().toLowerCase());
  return [...new Set(names.filter((name) => HEADER_NAME.test(name)))];
}
