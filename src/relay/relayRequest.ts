import { OpenAIRxError } from '../errors.js';
import { isRecord } from '../sse/httpErrors.js';
import { BODY_TOO_LARGE } from './relayBody.js';
import { RelayRejection } from './relayErrors.js';
import { matchRoute, parseRequestBody } from './relayRoutes.js';
import { isStreamId, resumePosition } from './resumeMode.js';
import type { RelayRuntime } from './relayRuntime.js';
import type { RelayIncoming } from './relaySink.js';
import type { AllowModels, RelayContext, RelayRequestBody } from './types.js';

/** What the request steps decided: the upstream request to make, or that the client left while its body was read. */
export type RelayPlan =
  | { kind: 'stream'; path: string; body: RelayRequestBody }
  | { kind: 'json'; method: 'GET' | 'POST'; path: string; body: RelayRequestBody | undefined }
  | { kind: 'resume'; streamId: string; after: number }
  | { kind: 'cancel'; streamId: string }
  | { kind: 'client-gone' };

/**
 * The checks every request passes before upstream is contacted: the route
 * table (404, 405), the body limit (413), JSON and the route's schema (400),
 * `allowModels` (403) and `transformRequest`. A request that fails one is a
 * `RelayRejection`, answered without contacting upstream. `context` learns the
 * route, model and `stream` flag as they are known.
 */
export async function planRequest<Req>(
  relay: RelayRuntime<Req>,
  incoming: RelayIncoming<Req>,
  context: RelayContext<Req>,
): Promise<RelayPlan> {
  const { spec, target } = matchRoute(relay.routes, relay.prefix, incoming.method, incoming.pathname);
  context.route = spec.name;
  if (spec.kind !== 'upstream') return streamPlan(spec.kind, target, incoming);
  if (spec.method === 'GET') return { kind: 'json', method: 'GET', path: target, body: undefined };
  const text = await readBodyOrGone(relay, incoming);
  if (text === undefined) return { kind: 'client-gone' };
  const parsed = parseRequestBody(spec, text);
  noteBody(context, parsed);
  if (typeof parsed.model === 'string') await checkModel(relay.options.allowModels, parsed.model, incoming.request);
  const body = await transformed(relay, parsed, incoming.request);
  noteBody(context, body);
  return spec.streams && body.stream === true
    ? { kind: 'stream', path: target, body }
    : { kind: 'json', method: 'POST', path: target, body };
}

/** A resume or cancel request: the stream id (anything that is not one is unknown) and, to resume, the position. */
function streamPlan<Req>(kind: 'resume' | 'cancel', streamId: string, incoming: RelayIncoming<Req>): RelayPlan {
  if (!isStreamId(streamId)) throw unknownStream();
  if (kind === 'cancel') return { kind, streamId };
  const after = resumePosition(incoming.header('last-event-id'), incoming.search);
  if (after === undefined) {
    throw new RelayRejection({
      status: 400,
      message: 'Last-Event-ID (or ?after=) must be the id of an event received: a whole number from 0.',
      code: 'invalid_last_event_id',
      param: 'Last-Event-ID',
    });
  }
  return { kind, streamId, after };
}

/** An unknown, expired or malformed stream id, or one that belongs to someone else: all the same to the client. */
export function unknownStream(): RelayRejection {
  return new RelayRejection({ status: 404, message: 'No stream with this id is available.', code: 'stream_not_found' });
}

/** The body as text; `undefined` when the client went away first; 413 past the limit. */
async function readBodyOrGone<Req>(relay: RelayRuntime<Req>, incoming: RelayIncoming<Req>): Promise<string | undefined> {
  let text: Awaited<ReturnType<RelayIncoming<Req>['readBody']>>;
  try {
    text = await incoming.readBody(relay.maxBodyBytes);
  } catch (error) {
    if (error instanceof RelayRejection) throw error;
    return undefined;
  }
  if (text === BODY_TOO_LARGE) {
    throw new RelayRejection({
      status: 413,
      message: `The request body is larger than this relay's limit of ${relay.maxBodyBytes} bytes.`,
      code: 'request_too_large',
    });
  }
  return text;
}

async function transformed<Req>(relay: RelayRuntime<Req>, body: RelayRequestBody, request: Req): Promise<RelayRequestBody> {
  const { transformRequest } = relay.options;
  if (!transformRequest) return body;
  const result = await transformRequest(body, request);
  if (!isRecord(result)) throw new OpenAIRxError({ message: 'transformRequest must return the request body as an object' });
  return result as RelayRequestBody;
}

function noteBody<Req>(context: RelayContext<Req>, body: RelayRequestBody): void {
  context.model = typeof body.model === 'string' ? body.model : undefined;
  context.stream = body.stream === true;
}

async function checkModel<Req>(allow: AllowModels<Req> | undefined, model: string, request: Req): Promise<void> {
  if (!allow) return;
  const allowed = typeof allow === 'function' ? await allow(model, request) : allow.includes(model);
  if (!allowed) {
    throw new RelayRejection({
      status: 403,
      message: `The model '${model}' is not available through this relay.`,
      param: 'model',
      code: 'model_not_allowed',
    });
  }
}
