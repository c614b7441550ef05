import type { Response, ResponseContentPart, ResponseOutputItem, ResponseSummaryPart } from './responseTypes.js';

/*
 * The events of a Responses stream, as types. `switch (event.type)` narrows
 * them: each validated event to its own fields, each other event OpenAI
 * documents to its `type`. Only what the schemas in responseTypes.ts validate
 * is typed (spec/types/schemaConformance.ts checks that they agree); the rest
 * of every event is reached through `extras(event)`.
 */

interface SequencedEvent {
  /** The event's position in the stream, from 0 (OpenAI sends it; some providers do not). */
  sequence_number?: number;
}

/** Fields of every event about one output item. */
interface ItemEvent extends SequencedEvent {
  /** The item's position in the response's `output`. */
  output_index: number;
  /** The item's id. */
  item_id?: string;
}

/** Fields of every event about one part of a message. */
interface ContentPartEvent extends ItemEvent {
  /** The part's position in the message's `content`. */
  content_index: number;
}

/** Fields of every event about one part of a reasoning item's summary. */
interface SummaryPartEvent extends ItemEvent {
  /** The part's position in the reasoning item's `summary`. */
  summary_index: number;
}

/** The response was created: the first event, `status` `in_progress` or `queued`. */
export interface ResponseCreatedEvent extends SequencedEvent {
  type: 'response.created';
  response: Response;
}

export interface ResponseInProgressEvent extends SequencedEvent {
  type: 'response.in_progress';
  response: Response;
}

/** The response finished: the last event, with the whole response and its `usage`. */
export interface ResponseCompletedEvent extends SequencedEvent {
  type: 'response.completed';
  response: Response;
}

/** The response finished early: the last event; `response.incomplete_details.reason` says why. */
export interface ResponseIncompleteEvent extends SequencedEvent {
  type: 'response.incomplete';
  response: Response;
}

/** An output item (a message, a function call, reasoning …) began. */
export interface ResponseOutputItemAddedEvent extends SequencedEvent {
  type: 'response.output_item.added';
  output_index: number;
  item: ResponseOutputItem;
}

/** An output item is complete, as `item`. */
export interface ResponseOutputItemDoneEvent extends SequencedEvent {
  type: 'response.output_item.done';
  output_index: number;
  item: ResponseOutputItem;
}

export interface ResponseContentPartAddedEvent extends ContentPartEvent {
  type: 'response.content_part.added';
  part: ResponseContentPart;
}

export interface ResponseContentPartDoneEvent extends ContentPartEvent {
  type: 'response.content_part.done';
  part: ResponseContentPart;
}

/** The next piece of a message's text. */
export interface ResponseTextDeltaEvent extends ContentPartEvent {
  type: 'response.output_text.delta';
  /** The text to append. */
  delta: string;
  /** With `include: ['message.output_text.logprobs']`: the pieces' tokens and log probabilities. */
  logprobs?: unknown[];
}

/** A message's text part is complete. */
export interface ResponseTextDoneEvent extends ContentPartEvent {
  type: 'response.output_text.done';
  /** The whole text of the part. */
  text: string;
  logprobs?: unknown[];
}

export interface ResponseRefusalDeltaEvent extends ContentPartEvent {
  type: 'response.refusal.delta';
  /** The refusal text to append. */
  delta: string;
}

export interface ResponseRefusalDoneEvent extends ContentPartEvent {
  type: 'response.refusal.done';
  /** The whole refusal text. */
  refusal: string;
}

/** The next piece of a function call's arguments. */
export interface ResponseFunctionCallArgumentsDeltaEvent extends ItemEvent {
  type: 'response.function_call_arguments.delta';
  /** JSON text to append. */
  delta: string;
}

export interface ResponseFunctionCallArgumentsDoneEvent extends ItemEvent {
  type: 'response.function_call_arguments.done';
  /** The whole arguments, JSON as the model wrote it. */
  arguments: string;
  /** The function's name (OpenAI sends it; some providers do not). */
  name?: string;
}

export interface ResponseReasoningSummaryPartAddedEvent extends SummaryPartEvent {
  type: 'response.reasoning_summary_part.added';
  part: ResponseSummaryPart;
}

export interface ResponseReasoningSummaryPartDoneEvent extends SummaryPartEvent {
  type: 'response.reasoning_summary_part.done';
  part: ResponseSummaryPart;
}

/** The next piece of a reasoning summary's text. */
export interface ResponseReasoningSummaryTextDeltaEvent extends SummaryPartEvent {
  type: 'response.reasoning_summary_text.delta';
  delta: string;
}

export interface ResponseReasoningSummaryTextDoneEvent extends SummaryPartEvent {
  type: 'response.reasoning_summary_text.done';
  text: string;
}

/**
 * The events openai-rx validates, by `type`. `response.failed` and `error`
 * are not here: they end the stream with `APIError`.
 */
export interface ResponseStreamEventMap {
  'response.created': ResponseCreatedEvent;
  'response.in_progress': ResponseInProgressEvent;
  'response.completed': ResponseCompletedEvent;
  'response.incomplete': ResponseIncompleteEvent;
  'response.output_item.added': ResponseOutputItemAddedEvent;
  'response.output_item.done': ResponseOutputItemDoneEvent;
  'response.content_part.added': ResponseContentPartAddedEvent;
  'response.content_part.done': ResponseContentPartDoneEvent;
  'response.output_text.delta': ResponseTextDeltaEvent;
  'response.output_text.done': ResponseTextDoneEvent;
  'response.refusal.delta': ResponseRefusalDeltaEvent;
  'response.refusal.done': ResponseRefusalDoneEvent;
  'response.function_call_arguments.delta': ResponseFunctionCallArgumentsDeltaEvent;
  'response.function_call_arguments.done': ResponseFunctionCallArgumentsDoneEvent;
  'response.reasoning_summary_part.added': ResponseReasoningSummaryPartAddedEvent;
  'response.reasoning_summary_part.done': ResponseReasoningSummaryPartDoneEvent;
  'response.reasoning_summary_text.delta': ResponseReasoningSummaryTextDeltaEvent;
  'response.reasoning_summary_text.done': ResponseReasoningSummaryTextDoneEvent;
}

/** An event openai-rx validated: every field of its type is there, with the type it was checked to have. */
export type KnownResponseStreamEvent = ResponseStreamEventMap[keyof ResponseStreamEventMap];

/**
 * The other event types OpenAI's API reference documents. openai-rx passes
 * them on without validating them, so only their `type` is typed.
 */
export type UnvalidatedResponseEventType =
  | 'response.queued'
  | 'response.output_text.annotation.added'
  | 'response.reasoning_text.delta'
  | 'response.reasoning_text.done'
  | 'response.custom_tool_call_input.delta'
  | 'response.custom_tool_call_input.done'
  | 'response.audio.delta'
  | 'response.audio.done'
  | 'response.audio.transcript.delta'
  | 'response.audio.transcript.done'
  | 'response.web_search_call.in_progress'
  | 'response.web_search_call.searching'
  | 'response.web_search_call.completed'
  | 'response.file_search_call.in_progress'
  | 'response.file_search_call.searching'
  | 'response.file_search_call.completed'
  | 'response.code_interpreter_call.in_progress'
  | 'response.code_interpreter_call.interpreting'
  | 'response.code_interpreter_call.completed'
  | 'response.code_interpreter_call_code.delta'
  | 'response.code_interpreter_call_code.done'
  | 'response.image_generation_call.in_progress'
  | 'response.image_generation_call.generating'
  | 'response.image_generation_call.partial_image'
  | 'response.image_generation_call.completed'
  | 'response.mcp_call.in_progress'
  | 'response.mcp_call.completed'
  | 'response.mcp_call.failed'
  | 'response.mcp_call_arguments.delta'
  | 'response.mcp_call_arguments.done'
  | 'response.mcp_list_tools.in_progress'
  | 'response.mcp_list_tools.completed'
  | 'response.mcp_list_tools.failed';

/** An event of a documented type openai-rx does not validate: its other fields are reached through `extras(event)`. */
export interface UnvalidatedResponseStreamEvent<T extends UnvalidatedResponseEventType = UnvalidatedResponseEventType> {
  type: T;
}

/**
 * An event of a type OpenAI does not document (a provider's own, or one newer
 * than openai-rx), passed on as sent. Its `type` is typed `never` because
 * TypeScript has no "any string but these": typed `string`, it would stop
 * `switch (event.type)` from narrowing the others. Read it, and the rest of
 * the event, through `extras(event)`.
 *
 * @example
 * default:
 *   if (extras(event).type === 'vendor.progress') showProgress(extras(event).percent);
 */
export interface UnknownResponseStreamEvent {
  type: never;
}

/**
 * What `responseEvents()` and `client.responses.stream()` emit.
 * `switch (event.type)` narrows it; `ofType(…)` picks events by type.
 *
 * @example
 * switch (event.type) {
 *   case 'response.output_text.delta': write(event.delta); break;
 *   case 'response.completed': done(event.response.usage); break;
 * }
 */
export type ResponseStreamEvent =
  | KnownResponseStreamEvent
  | { [T in UnvalidatedResponseEventType]: UnvalidatedResponseStreamEvent<T> }[UnvalidatedResponseEventType]
  | UnknownResponseStreamEvent;

/** Every event type OpenAI documents for a stream that openai-rx emits, validated or not. */
export type ResponseEventType = keyof ResponseStreamEventMap | UnvalidatedResponseEventType;

/** The event of type `T`: `ResponseStreamEventOf<'response.output_text.delta'>` has a `delta`. */
export type ResponseStreamEventOf<T extends ResponseEventType> = T extends keyof ResponseStreamEventMap
  ? ResponseStreamEventMap[T]
  : T extends UnvalidatedResponseEventType
    ? UnvalidatedResponseStreamEvent<T>
    : never;
