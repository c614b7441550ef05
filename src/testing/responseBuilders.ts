import type { SseEventFrame } from '../sse/types.js';
import { DEFAULT_CREATED, isDeltaList } from './chatBuilders.js';
import { sseEvent } from './sseBuilders.js';

export type ResponseUsageJson = {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
};
export type ResponseOutputTextJson = { type: 'output_text'; text: string; annotations: never[]; logprobs: never[] };
export type ResponseMessageItemJson = {
  id: string;
  type: 'message';
  status: 'in_progress' | 'completed';
  role: 'assistant';
  content: ResponseOutputTextJson[];
};
export type ResponseFunctionCallItemJson = {
  id: string;
  type: 'function_call';
  status: 'in_progress' | 'completed';
  call_id: string;
  name: string;
  arguments: string;
};
export type ResponseItemJson = ResponseMessageItemJson | ResponseFunctionCallItemJson;
export type ResponseJson = {
  id: string;
  object: 'response';
  created_at: number;
  status: 'in_progress' | 'completed';
  error: null;
  incomplete_details: null;
  model: string;
  output: ResponseItemJson[];
  usage: ResponseUsageJson | null;
};
/** One Responses stream event: `type`, `sequence_number` and the fields of that type. */
export type ResponseEventJson = { type: string; sequence_number: number; [field: string]: unknown };

export interface ResponseIdentity {
  id?: string;
  model?: string;
  /** Unix seconds. */
  createdAt?: number;
}

export interface ResponseStreamInit extends ResponseIdentity {
  /** Deltas of one output_text message; omitted, the response has no message. */
  text?: readonly string[];
  /** Function calls after the message, each streamed as arguments deltas. */
  functionCalls?: ReadonlyArray<{ name: string; arguments: readonly string[]; callId?: string }>;
  usage?: ResponseUsageJson;
}

export interface ResponseInit extends ResponseIdentity {
  text?: string;
  functionCalls?: ReadonlyArray<{ name: string; arguments: string; callId?: string }>;
  usage?: ResponseUsageJson;
}

/** Token counts in the Responses API's usage shape. */
export function responseUsage(inputTokens: number, outputTokens: number): ResponseUsageJson {
  return {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inputTokens + outputTokens,
  };
}

/**
 * A finished Response object, as `stream: false` returns it and as
 * `response.completed` carries it.
 */
export function responseObject(init: ResponseInit): ResponseJson {
  const id = init.id ?? 'resp_test';
  const output: ResponseItemJson[] = [];
  if (init.text !== undefined) {
    output.push({ id: messageId(id), type: 'message', status: 'completed', role: 'assistant', content: [outputText(init.text)] });
  }
  (init.functionCalls ?? []).forEach((call, index) => {
    output.push({
      id: functionCallId(id, index),
      type: 'function_call',
      status: 'completed',
      call_id: call.callId ?? `call_test_${index}`,
      name: call.name,
      arguments: call.arguments,
    });
  });
  return { ...responseHead(init, 'completed'), output, usage: init.usage ?? null };
}

/**
 * Every event of a streamed response in the order OpenAI sends them:
 * `response.created`, `response.in_progress`, per output item `output_item.added`,
 * (`content_part.added`, `output_text.delta`…, `output_text.done`,
 * `content_part.done`) or (`function_call_arguments.delta`…, `.done`),
 * `output_item.done`, and last `response.completed`. There is no `[DONE]`.
 *
 * @example
 * responseStreamEvents({ text: ['Hel', 'lo'] }).map((event) => event.type);
 */
export function responseStreamEvents(init: ResponseStreamInit | readonly string[]): ResponseEventJson[] {
  const stream: ResponseStreamInit = isDeltaList(init) ? { text: init } : init;
  const id = stream.id ?? 'resp_test';
  const events: ResponseEventJson[] = [];
  const emit = (type: string, fields: Record<string, unknown>) => events.push({ type, sequence_number: events.length, ...fields });
  const inProgress = { ...responseHead(stream, 'in_progress'), output: [], usage: null };
  emit('response.created', { response: inProgress });
  emit('response.in_progress', { response: inProgress });

  let outputIndex = 0;
  if (stream.text) {
    const itemId = messageId(id);
    const text = stream.text.join('');
    const where = { item_id: itemId, output_index: outputIndex, content_index: 0 };
    emit('response.output_item.added', {
      output_index: outputIndex,
      item: { id: itemId, type: 'message', status: 'in_progress', role: 'assistant', content: [] },
    });
    emit('response.content_part.added', { ...where, part: outputText('') });
    for (const delta of stream.text) emit('response.output_text.delta', { ...where, delta, logprobs: [] });
    emit('response.output_text.done', { ...where, text, logprobs: [] });
    emit('response.content_part.done', { ...where, part: outputText(text) });
    emit('response.output_item.done', {
      output_index: outputIndex,
      item: { id: itemId, type: 'message', status: 'completed', role: 'assistant', content: [outputText(text)] },
    });
    outputIndex++;
  }
  (stream.functionCalls ?? []).forEach((call, index) => {
    const item: ResponseFunctionCallItemJson = {
      id: functionCallId(id, index),
      type: 'function_call',
      status: 'in_progress',
      call_id: call.callId ?? `call_test_${index}`,
      name: call.name,
      arguments: '',
    };
    const where = { item_id: item.id, output_index: outputIndex };
    const args = call.arguments.join('');
    emit('response.output_item.added', { output_index: outputIndex, item });
    for (const delta of call.arguments) emit('response.function_call_arguments.delta', { ...where, delta });
    emit('response.function_call_arguments.done', { ...where, name: call.name, arguments: args });
    emit('response.output_item.done', { output_index: outputIndex, item: { ...item, status: 'completed', arguments: args } });
    outputIndex++;
  });

  const completed = responseObject({
    ...stream,
    text: stream.text?.join(''),
    functionCalls: stream.functionCalls?.map((call) => ({ ...call, arguments: call.arguments.join('') })),
  });
  emit('response.completed', { response: completed });
  return events;
}

/**
 * The frames of a whole streamed response: each event as `event: <type>` with its JSON.
 *
 * @example
 * scriptedTransport({ body: sseText(responseFrames(['Hel', 'lo'])) });
 */
export function responseFrames(init: ResponseStreamInit | readonly string[]): SseEventFrame[] {
  return responseStreamEvents(init).map((event) => sseEvent(event, { event: event.type }));
}

function responseHead(init: ResponseIdentity, status: ResponseJson['status']) {
  return {
    id: init.id ?? 'resp_test',
    object: 'response' as const,
    created_at: init.createdAt ?? DEFAULT_CREATED,
    status,
    error: null,
    incomplete_details: null,
    model: init.model ?? 'test-model',
  };
}

function outputText(text: string): ResponseOutputTextJson {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

function messageId(responseId: string): string {
  return `msg_${responseId.replace(/^resp_/, '')}`;
}

function functionCallId(responseId: string, index: number): string {
  return `fc_${responseId.replace(/^resp_/, '')}_${index}`;
}
