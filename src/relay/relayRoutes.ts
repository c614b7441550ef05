import * as z from 'zod/mini';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../json.js';
import { issueSummary } from '../openai/issueSummary.js';
import { RelayRejection } from './relayErrors.js';
import type { RelayRequestBody, RelayRoute } from './types.js';

/*
 * One lenient schema per route: only what the relay itself relies on (a model
 * to check, a `stream` flag to pick SSE or JSON) and what every request of the
 * endpoint must carry is checked; unknown fields pass through untouched.
 * Built with zod/mini to keep the fetch relay light in browser-style bundles.
 */
const model = z.string().check(z.minLength(1));
const stream = z.nullish(z.boolean());
const textOrList = z.union([z.string(), z.array(z.unknown())]);

const SCHEMAS: Record<RelayRoute, z.ZodMiniType<RelayRequestBody>> = {
  'chat/completions': z.looseObject({ model, stream, messages: z.array(z.unknown()) }),
  completions: z.looseObject({ model, stream, prompt: textOrList }),
  responses: z.looseObject({ model, stream, input: z.optional(textOrList) }),
};

const ROUTES = Object.keys(SCHEMAS) as RelayRoute[];

/** The route a path names below `prefix`; answers 404 for any other path and 405 for a method other than POST. */
export function matchRoute(prefix: string, method: string, pathname: string): RelayRoute {
  const route = routeOf(prefix, pathname);
  if (route === undefined) {
    const served = ROUTES.map((name) => `${prefix}/${name}`).join(', ');
    throw new RelayRejection({
      status: 404,
      message: `Unknown route ${method} ${pathname}; this relay serves POST ${served}.`,
      code: 'unknown_url',
    });
  }
  if (method !== 'POST') {
    throw new RelayRejection({
      status: 405,
      message: `Method ${method} is not allowed on ${pathname}; use POST.`,
      code: 'method_not_allowed',
      headers: { allow: 'POST' },
    });
  }
  return route;
}

/** Whether a request path belongs to the relay at all (for frameworks that pass unknown paths on). */
export function routeOf(prefix: string, pathname: string): RelayRoute | undefined {
  if (!pathname.startsWith(`${prefix}/`)) return undefined;
  const name = pathname.slice(prefix.length + 1).replace(/\/+$/, '');
  return (ROUTES as string[]).includes(name) ? (name as RelayRoute) : undefined;
}

/** `/v1`, `v1/`, `/` → `/v1`, `/v1`, `` (no trailing slash, one leading slash unless empty). */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed ? `/${trimmed}` : '';
}

/** Parses and checks a request body; answers 400 (naming the field) for invalid JSON or a body the route cannot take. */
export function parseRequestBody(route: RelayRoute, text: string): RelayRequestBody {
  if (nestsDeeperThan(text)) throw tooDeep();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    const reason = cause instanceof Error ? `: ${cause.message}` : '';
    throw new RelayRejection({ status: 400, message: `The request body is not valid JSON${reason}`, code: 'invalid_json' });
  }
  const result = SCHEMAS[route].safeParse(json);
  if (result.success) return result.data;
  const { path: param, text: problem } = issueSummary(result.error);
  const where = param ? ` at '${param}'` : '';
  throw new RelayRejection({
    status: 400,
    message: `Invalid request body for POST /${route}${where}: ${problem}`,
    code: 'invalid_request_body',
    param,
  });
}

/** A body nested deeper than any real request: kept, it could not be sent upstream (serializing it overflows the stack). */
export function tooDeep(): RelayRejection {
  return new RelayRejection({
    status: 400,
    message: `The request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels.`,
    code: 'request_too_deep',
  });
}
