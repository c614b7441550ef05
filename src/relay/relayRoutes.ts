import { OpenAIRxError } from '../errors.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../json.js';
import { issueSummary } from '../openai/issueSummary.js';
import { array, boolean, custom, looseObject, nullish, optional, safeParse, unknown, type Schema } from '../openai/schema.js';
import { RelayRejection } from './relayErrors.js';
import type { RelayRequestBody, RelayRoute, RelayRoutesOption } from './types.js';

/*
 * The relay's route table. A generation route (chat, legacy completions,
 * Responses) is checked with a lenient schema: only what the relay relies on
 * (a model to check, a `stream` flag to pick SSE or JSON) and what every
 * request of the endpoint must carry; unknown fields pass through untouched.
 * Built with the stream schemas' builders (../openai/schema.ts), as light as
 * they are: no zod module is loaded for them.
 */
const model = custom<string>((value) => typeof value === 'string' && value.length > 0, 'a non-empty string');
const stream = nullish(boolean());
const textOrList = custom<string | unknown[]>((value) => typeof value === 'string' || Array.isArray(value), 'a string or an array');

/**
 * One route: how a request below the prefix is served. An `upstream` route goes to the upstream path it names; the
 * resume mode's routes (`resume`, `cancel`) are the relay's own and name a stream id.
 */
export interface RouteSpec {
  name: RelayRoute;
  kind: 'upstream' | 'resume' | 'cancel';
  method: 'GET' | 'POST';
  /** The body's schema; for a POST route to upstream. */
  body?: Schema<Record<string, unknown>>;
  /** `stream: true` in the body asks for an event stream. */
  streams: boolean;
  /** For `rest` (the path below the prefix): the upstream path, or the stream id; `undefined` when the route does not take it. */
  target(rest: string): string | undefined;
}

/** A route found for a request: its spec, and its target (the upstream path below `baseURL`, or a stream id). */
export interface MatchedRoute {
  spec: RouteSpec;
  target: string;
}

const exactly = (path: string) => (rest: string) => (rest === path ? `/${path}` : undefined);

const generation = (name: RelayRoute, body: Schema<Record<string, unknown>>): RouteSpec => ({
  name,
  kind: 'upstream',
  method: 'POST',
  body,
  streams: true,
  target: exactly(name),
});

const GENERATION_ROUTES: readonly RouteSpec[] = [
  generation('chat/completions', looseObject({ model, stream, messages: array(unknown()) })),
  generation('completions', looseObject({ model, stream, prompt: textOrList })),
  generation('responses', looseObject({ model, stream, input: optional(textOrList) })),
];

/**
 * A model id: one or more segments (`meta-llama/Llama-3-8b` on OpenRouter or Hugging Face), none empty, `.` or `..`,
 * no control character, 256 characters at most once decoded.
 */
// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const MODEL_ID = /^(?!.*(?:^|\/)\.{1,2}(?:\/|$))(?!.*\/\/)[^\u0000-\u001f\u007f]{1,256}$/;

const MODEL_ROUTES: readonly RouteSpec[] = [
  { name: 'models', kind: 'upstream', method: 'GET', streams: false, target: exactly('models') },
  {
    name: 'models/{model}',
    kind: 'upstream',
    method: 'GET',
    streams: false,
    target(rest) {
      if (!rest.startsWith('models/')) return undefined;
      const id = decodedSegment(rest.slice('models/'.length));
      return id !== undefined && MODEL_ID.test(id) && !id.startsWith('/') ? `/models/${id.split('/').map(encodeURIComponent).join('/')}` : undefined;
    },
  },
];

/** `streams/{id}` and `streams/{id}/cancel`: any one segment is taken, and what is not a stream id is answered as unknown. */
const streamSegment = (suffix: string) => (rest: string) => {
  if (!rest.startsWith('streams/') || !rest.endsWith(suffix)) return undefined;
  const id = rest.slice('streams/'.length, rest.length - suffix.length);
  return id.length > 0 && !id.includes('/') ? id : undefined;
};

const RESUME_ROUTES: readonly RouteSpec[] = [
  { name: 'streams/{id}', kind: 'resume', method: 'GET', streams: true, target: streamSegment('') },
  { name: 'streams/{id}/cancel', kind: 'cancel', method: 'POST', streams: false, target: streamSegment('/cancel') },
];

/** A JSON endpoint's body: any object; a `model`, when there is one, is a name. */
const jsonBody = looseObject({ model: optional(model) });

/** Names of opt-in JSON routes: lower-case path segments (`embeddings`, `moderations`, `images/generations`). */
const JSON_ROUTE_NAME = /^[a-z0-9_-]+(?:\/[a-z0-9_-]+)*$/;

/** The routes a relay serves: the generation routes, the read-only model routes (unless off) and the opt-in JSON routes. */
export function routeTable(option: RelayRoutesOption = {}, resume = false): readonly RouteSpec[] {
  const json = (option.json ?? []).map((name): RouteSpec => {
    if (!JSON_ROUTE_NAME.test(name) || GENERATION_ROUTES.some((route) => route.name === name) || name.startsWith('models')) {
      throw new OpenAIRxError({ message: `routes.json: '${name}' is not a route the relay can add` });
    }
    return { name, kind: 'upstream', method: 'POST', body: jsonBody, streams: false, target: exactly(name) } satisfies RouteSpec;
  });
  return [...GENERATION_ROUTES, ...(option.models === false ? [] : MODEL_ROUTES), ...json, ...(resume ? RESUME_ROUTES : [])];
}

/** The route a path names below `prefix`; answers 404 for any other path and 405 for another method. */
export function matchRoute(routes: readonly RouteSpec[], prefix: string, method: string, pathname: string): MatchedRoute {
  const found = findRoutes(routes, prefix, pathname);
  if (found.length === 0) {
    const served = routes.map((route) => `${route.method} ${prefix}/${route.name}`).join(', ');
    throw new RelayRejection({ status: 404, message: `Unknown route ${method} ${pathname}; this relay serves ${served}.`, code: 'unknown_url' });
  }
  const matched = found.find((route) => route.spec.method === method);
  if (matched) return matched;
  const allow = found[0].spec.method;
  throw new RelayRejection({
    status: 405,
    message: `Method ${method} is not allowed on ${pathname}; use ${allow}.`,
    code: 'method_not_allowed',
    headers: { allow },
  });
}

/** Whether a request path belongs to the relay at all (for frameworks that pass unknown paths on). */
export function servesPath(routes: readonly RouteSpec[], prefix: string, pathname: string): boolean {
  return findRoutes(routes, prefix, pathname).length > 0;
}

function findRoutes(routes: readonly RouteSpec[], prefix: string, pathname: string): MatchedRoute[] {
  if (!pathname.startsWith(`${prefix}/`)) return [];
  const rest = pathname.slice(prefix.length + 1).replace(/\/+$/, '');
  const found: MatchedRoute[] = [];
  for (const spec of routes) {
    const target = spec.target(rest);
    if (target !== undefined) found.push({ spec, target });
  }
  return found;
}

function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** `/v1`, `v1/`, `/` → `/v1`, `/v1`, `` (no trailing slash, one leading slash unless empty). */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed ? `/${trimmed}` : '';
}

/** Parses and checks a request body; answers 400 (naming the field) for invalid JSON or a body the route cannot take. */
export function parseRequestBody(route: RouteSpec, text: string): RelayRequestBody {
  if (nestsDeeperThan(text)) throw tooDeep();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    const reason = cause instanceof Error ? `: ${cause.message}` : '';
    throw new RelayRejection({ status: 400, message: `The request body is not valid JSON${reason}`, code: 'invalid_json' });
  }
  const result = safeParse(route.body ?? jsonBody, json);
  if (result.success) return result.data as RelayRequestBody;
  const { path: param, text: problem } = issueSummary(result.error);
  const where = param ? ` at '${param}'` : '';
  throw new RelayRejection({
    status: 400,
    message: `Invalid request body for POST /${route.name}${where}: ${problem}`,
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
