import * as z from './schema.js';
import { indexSchema } from './chatTypes.js';
import type { KnownResponseStreamEvent, ResponseStreamEvent } from './responseEventTypes.js';

/*
 * Schemas for the Responses API's stream events. Loose like the chat schemas:
 * every object keeps the fields it came with, and only what would make the
 * accumulated response wrong is rejected (a delta that is not a string, an
 * event without the index that places it). Key order is never relied on.
 * Built like the chat schemas (./schema.ts), to keep browser bundles small.
 */

const sequenceNumber = z.optional(z.number());

export const responseUsageSchema = z.looseObject({
  input_tokens: z.optional(z.number()),
  output_tokens: z.optional(z.number()),
  total_tokens: z.optional(z.number()),
});

/** `output_text` (with `text`, `annotations`, `logprobs`), `refusal` (with `refusal`), or a part type added later. */
const contentPart = z.looseObject({
  type: z.string(),
  text: z.optional(z.string()),
  refusal: z.optional(z.string()),
  annotations: z.optional(z.array(z.unknown())),
  logprobs: z.optional(z.array(z.unknown())),
});

const summaryPart = z.looseObject({
  type: z.string(),
  text: z.string(),
});

/** A `message`, `function_call`, `reasoning` or any other output item; the fields each kind uses are typed. */
const outputItem = z.looseObject({
  type: z.string(),
  id: z.optional(z.string()),
  status: z.optional(z.string()),
  role: z.optional(z.string()),
  content: z.optional(z.array(contentPart)),
  call_id: z.optional(z.string()),
  name: z.optional(z.string()),
  arguments: z.optional(z.string()),
  summary: z.optional(z.array(summaryPart)),
});

export const responseSchema = z.looseObject({
  id: z.string(),
  object: z.optional(z.string()),
  created_at: z.optional(z.number()),
  status: z.optional(z.string()),
  model: z.optional(z.string()),
  output: z.array(outputItem),
  usage: z.nullish(responseUsageSchema),
  // `code` (a string from OpenAI) is left unchecked: a code of another type must not turn a failed response into a shape error.
  error: z.nullish(z.looseObject({ message: z.optional(z.string()) })),
  incomplete_details: z.nullish(z.looseObject({ reason: z.nullish(z.string()) })),
});

/** The schema of the events of one `type`, with the fields every event carries; paired with its type, for lookup. */
const event = <T extends string, Fields extends z.LooseShape>(type: T, fields: Fields) =>
  [type, z.looseObject({ type: z.literal(type), sequence_number: sequenceNumber, ...fields })] as const;

const lifecycleFields = { response: responseSchema };

const outputItemFields = { output_index: indexSchema, item: outputItem };

/** Fields every event about one content part of a message carries. */
const contentFields = {
  item_id: z.optional(z.string()),
  output_index: indexSchema,
  content_index: indexSchema,
};

/** Fields every event about one part of a reasoning item's summary carries. */
const summaryFields = {
  item_id: z.optional(z.string()),
  output_index: indexSchema,
  summary_index: indexSchema,
};

const functionCallFields = {
  item_id: z.optional(z.string()),
  output_index: indexSchema,
};

const knownEvents = [
  event('response.created', lifecycleFields),
  event('response.in_progress', lifecycleFields),
  event('response.completed', lifecycleFields),
  event('response.incomplete', lifecycleFields),
  event('response.failed', lifecycleFields),
  event('response.output_item.added', outputItemFields),
  event('response.output_item.done', outputItemFields),
  event('response.content_part.added', { ...contentFields, part: contentPart }),
  event('response.content_part.done', { ...contentFields, part: contentPart }),
  event('response.output_text.delta', { ...contentFields, delta: z.string(), logprobs: z.optional(z.array(z.unknown())) }),
  event('response.output_text.done', { ...contentFields, text: z.string(), logprobs: z.optional(z.array(z.unknown())) }),
  event('response.refusal.delta', { ...contentFields, delta: z.string() }),
  event('response.refusal.done', { ...contentFields, refusal: z.string() }),
  event('response.function_call_arguments.delta', { ...functionCallFields, delta: z.string() }),
  event('response.function_call_arguments.done', { ...functionCallFields, arguments: z.string(), name: z.optional(z.string()) }),
  event('response.reasoning_summary_part.added', { ...summaryFields, part: summaryPart }),
  event('response.reasoning_summary_part.done', { ...summaryFields, part: summaryPart }),
  event('response.reasoning_summary_text.delta', { ...summaryFields, delta: z.string() }),
  event('response.reasoning_summary_text.done', { ...summaryFields, text: z.string() }),
];

type KnownEventSchema = (typeof knownEvents)[number][1];

/*
 * Each event is validated by the schema of its `type`, found by lookup: what a
 * discriminated union does, without its weight in the browser bundle.
 */
const schemaByType: ReadonlyMap<string, KnownEventSchema> = new Map<string, KnownEventSchema>(knownEvents);

/**
 * The schema for events of this `type`, or `undefined` for a type openai-rx
 * does not know. `error` events are not here: they are read as errors before
 * validation, in every shape.
 */
export function responseEventSchemaOf(type: string): KnownEventSchema | undefined {
  return schemaByType.get(type);
}

/*
 * The exported types name exactly the fields the schemas above validate, each
 * with the type it was checked to have: no index signature, so a misspelt
 * field does not compile. Every other field is kept at run time and reached
 * through `extras(value)`. spec/types/schemaConformance.ts proves that these
 * types and the schemas agree.
 */

/** A response, as its lifecycle events describe it and as `accumulateResponse()` builds it. */
export interface Response {
  /** `resp_…` */
  id: string;
  /** `response` */
  object?: string;
  /** Unix time in seconds. */
  created_at?: number;
  /** `queued`, `in_progress`, `completed`, `incomplete`, `failed` or `cancelled`. */
  status?: string;
  model?: string;
  /** Messages, function calls, reasoning and the other items the model produced, in order. */
  output: ResponseOutputItem[];
  /** Token counts, on the final response. */
  usage?: ResponseUsage | null;
  /** Why the response failed, when it did. */
  error?: { message?: string } | null;
  /** Why the response is incomplete (`max_output_tokens`, `content_filter`), when it is. */
  incomplete_details?: { reason?: string | null } | null;
}

/**
 * An item of a response's output: a `message` (`role`, `content`), a
 * `function_call` (`call_id`, `name`, `arguments`), `reasoning` (`summary`),
 * or another kind, whose own fields are reached through `extras(item)`.
 */
export interface ResponseOutputItem {
  type: string;
  id?: string;
  /** `in_progress`, `completed` or `incomplete`. */
  status?: string;
  /** A message's role: `assistant`. */
  role?: string;
  /** A message's parts. */
  content?: ResponseContentPart[];
  /** A function call's id, which its `function_call_output` answers. */
  call_id?: string;
  /** The function a call names. */
  name?: string;
  /** A function call's arguments: JSON as the model wrote it. */
  arguments?: string;
  /** A reasoning item's summary parts. */
  summary?: ResponseSummaryPart[];
}

/** A part of a message: `output_text` (with `text`, `annotations`, `logprobs`), `refusal` (with `refusal`), or a part type added later. */
export interface ResponseContentPart {
  type: string;
  text?: string;
  refusal?: string;
  annotations?: unknown[];
  logprobs?: unknown[];
}

/** A part of a reasoning item's summary: `summary_text`. */
export interface ResponseSummaryPart {
  type: string;
  text: string;
}

/** Token counts; OpenAI's `input_tokens_details` and `output_tokens_details` are reached through `extras(usage)`. */
export interface ResponseUsage {
  input_tokens?: number;
  output_tokens?: number;
  total_tokens?: number;
}

/**
 * `true` for the events openai-rx validated: those of a type in
 * {@link ResponseStreamEventMap}. `switch (event.type)` narrows without it;
 * it is the check to use where the type is not known in advance.
 *
 * @example
 * if (isKnownResponseEvent(event)) record(event.type, event.sequence_number);
 */
export function isKnownResponseEvent(event: ResponseStreamEvent): event is KnownResponseStreamEvent {
  const type: string = event.type;
  return schemaByType.has(type) && type !== 'response.failed';
}

export type {
  KnownResponseStreamEvent,
  ResponseEventType,
  ResponseStreamEvent,
  ResponseStreamEventMap,
  ResponseStreamEventOf,
  UnknownResponseStreamEvent,
  UnvalidatedResponseEventType,
  UnvalidatedResponseStreamEvent,
} from './responseEventTypes.js';
export type { ResponseCreateParams } from './responseParams.js';
