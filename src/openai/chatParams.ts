import type { ChatCompletionMessage, ChatCompletionMessageToolCall } from './chatTypes.js';

/*
 * The request body of `/chat/completions`, written from OpenAI's API
 * reference (openai-rx has no dependency on the official SDK, types included).
 * Precise on purpose: an unknown field or a misspelt role is a compile error.
 * A provider's own fields (vLLM's `guided_json`, OpenRouter's `provider`,
 * Ollama's `options`) are sent by naming them in the type argument of the
 * endpoint method: `client.chat.completions.stream<ChatCompletionCreateParams
 * & { guided_json?: object }>(…)`.
 */

/** Request body for `/chat/completions`. openai-rx sets `stream: true` itself. */
export interface ChatCompletionCreateParams {
  /** The model's id, e.g. `gpt-4o-mini`. */
  model: string;
  /** The conversation so far, oldest first. */
  messages: ReadonlyArray<ChatCompletionMessageParam>;
  /** Sampling temperature, 0 to 2: higher is more random. Change this or `top_p`, not both. */
  temperature?: number | null;
  /** Nucleus sampling: only the tokens within this probability mass are considered. */
  top_p?: number | null;
  /** The most tokens to generate, reasoning tokens included (replaces `max_tokens`, which o-series models reject). */
  max_completion_tokens?: number | null;
  /** The most tokens to generate. Deprecated by OpenAI in favour of `max_completion_tokens`; other providers read this one. */
  max_tokens?: number | null;
  /** How many choices to generate; each arrives with its own `index`. */
  n?: number | null;
  /** Up to 4 sequences where generation stops. */
  stop?: string | ReadonlyArray<string> | null;
  /** Tools the model may call. */
  tools?: ReadonlyArray<ChatCompletionTool>;
  /** `none`, `auto` (the default with tools), `required`, or one named tool. */
  tool_choice?: ChatCompletionToolChoiceOption;
  /** Whether the model may call several tools in one turn. */
  parallel_tool_calls?: boolean;
  /** Plain text (default), any JSON object, or JSON that matches a schema (structured output). */
  response_format?: ResponseFormatText | ResponseFormatJSONObject | ResponseFormatJSONSchema;
  /** Streaming options. */
  stream_options?: ChatCompletionStreamOptions | null;
  /** Sent as `true` whatever it says here: every request openai-rx makes streams. */
  stream?: boolean | null;
  /** How much reasoning models reason before they answer. */
  reasoning_effort?: ReasoningEffort | null;
  /** Whether to return the log probability of each output token. */
  logprobs?: boolean | null;
  /** With `logprobs`, how many most likely tokens to return at each position (0 to 20). */
  top_logprobs?: number | null;
  /** -2 to 2: positive values penalize tokens that already appeared, by how often. */
  frequency_penalty?: number | null;
  /** -2 to 2: positive values penalize tokens that already appeared at all. */
  presence_penalty?: number | null;
  /** Token id → bias from -100 to 100 added to its logit. */
  logit_bias?: Readonly<Record<string, number>> | null;
  /** Best-effort determinism: the same seed and parameters should give the same answer. */
  seed?: number | null;
  /** The output types wanted: `['text']` (default) or `['text', 'audio']`. */
  modalities?: ReadonlyArray<'text' | 'audio'> | null;
  /** Voice and format of audio output (with `modalities: ['text', 'audio']`). */
  audio?: ChatCompletionAudioParam | null;
  /** Predicted output (e.g. a file being regenerated), to speed up the answer. */
  prediction?: ChatCompletionPredictionContent | null;
  /** Shorter or longer answers: `low`, `medium` or `high`. */
  verbosity?: 'low' | 'medium' | 'high' | null;
  /** Search the web before answering (search models). */
  web_search_options?: ChatCompletionWebSearchOptions;
  /** Whether OpenAI stores the completion (for evals and distillation). */
  store?: boolean | null;
  /** Up to 16 key-value pairs attached to the stored completion. */
  metadata?: Metadata | null;
  /** `auto`, `default`, `flex`, `scale` or `priority` processing. */
  service_tier?: 'auto' | 'default' | 'flex' | 'scale' | 'priority' | null;
  /** Groups similar requests for prompt caching. */
  prompt_cache_key?: string;
  /** How long cached prompt prefixes are kept. */
  prompt_cache_retention?: 'in_memory' | '24h' | null;
  /** A stable id for your end user (hashed), used to detect abuse. */
  safety_identifier?: string;
  /** Deprecated by OpenAI in favour of `safety_identifier` and `prompt_cache_key`. */
  user?: string;
  /** Deprecated: use `tools`. */
  functions?: ReadonlyArray<FunctionDefinition>;
  /** Deprecated: use `tool_choice`. */
  function_call?: 'none' | 'auto' | { name: string };
}

/** One message of the conversation; `role` says which kind. */
export type ChatCompletionMessageParam =
  | ChatCompletionDeveloperMessageParam
  | ChatCompletionSystemMessageParam
  | ChatCompletionUserMessageParam
  | ChatCompletionAssistantMessageParam
  | ChatCompletionToolMessageParam
  | ChatCompletionFunctionMessageParam
  /** An answer as `accumulateChatCompletion()` built it (`choices[0].message`), sent back as it is. */
  | ChatCompletionMessage;

/** Instructions the model follows whatever the user says (o1 and newer models; `system` for older ones). */
export interface ChatCompletionDeveloperMessageParam {
  role: 'developer';
  content: string | ReadonlyArray<ChatCompletionContentPartText>;
  /** Tells participants of the same role apart. */
  name?: string;
}

/** Instructions the model follows whatever the user says. */
export interface ChatCompletionSystemMessageParam {
  role: 'system';
  content: string | ReadonlyArray<ChatCompletionContentPartText>;
  /** Tells participants of the same role apart. */
  name?: string;
}

/** What the user says: text, or parts (text, images, audio, files). */
export interface ChatCompletionUserMessageParam {
  role: 'user';
  content: string | ReadonlyArray<ChatCompletionContentPart>;
  /** Tells participants of the same role apart. */
  name?: string;
}

/** An earlier answer of the model, with the tool calls it made. */
export interface ChatCompletionAssistantMessageParam {
  role: 'assistant';
  /** Required unless `tool_calls` (or `function_call`) is given. */
  content?: string | ReadonlyArray<ChatCompletionContentPartText | ChatCompletionContentPartRefusal> | null;
  refusal?: string | null;
  /** The calls the model made; each gets a `tool` message answering its `id`. */
  tool_calls?: ReadonlyArray<ChatCompletionMessageToolCall>;
  /** A previous audio answer, by id. */
  audio?: { id: string } | null;
  /** Tells participants of the same role apart. */
  name?: string;
  /** Deprecated: use `tool_calls`. */
  function_call?: { name: string; arguments: string } | null;
}

/** The result of one tool call. */
export interface ChatCompletionToolMessageParam {
  role: 'tool';
  /** The `id` of the call this answers. */
  tool_call_id: string;
  content: string | ReadonlyArray<ChatCompletionContentPartText>;
}

/** Deprecated: the result of a `function_call`; use `tool` messages. */
export interface ChatCompletionFunctionMessageParam {
  role: 'function';
  name: string;
  content: string | null;
}

/** A part of a user message. */
export type ChatCompletionContentPart =
  | ChatCompletionContentPartText
  | ChatCompletionContentPartImage
  | ChatCompletionContentPartInputAudio
  | ChatCompletionContentPartFile;

export interface ChatCompletionContentPartText {
  type: 'text';
  text: string;
}

/** An image, by URL or as a `data:` URL with base64 data. */
export interface ChatCompletionContentPartImage {
  type: 'image_url';
  image_url: {
    url: string;
    /** `low` is cheaper and faster; `high` sees more detail; `auto` (default) lets the model choose. */
    detail?: 'auto' | 'low' | 'high';
  };
}

/** Audio input, base64-encoded. */
export interface ChatCompletionContentPartInputAudio {
  type: 'input_audio';
  input_audio: { data: string; format: 'wav' | 'mp3' };
}

/** A file (e.g. a PDF): an uploaded file's id, or its data inline. */
export interface ChatCompletionContentPartFile {
  type: 'file';
  file: {
    /** Base64 data, as a `data:` URL. */
    file_data?: string;
    /** The id of an uploaded file. */
    file_id?: string;
    filename?: string;
  };
}

export interface ChatCompletionContentPartRefusal {
  type: 'refusal';
  refusal: string;
}

/** A tool the model may call. */
export type ChatCompletionTool = ChatCompletionFunctionTool | ChatCompletionCustomTool;

export interface ChatCompletionFunctionTool {
  type: 'function';
  function: FunctionDefinition;
}

export interface FunctionDefinition {
  /** a-z, A-Z, 0-9, `_` and `-`, at most 64 characters. */
  name: string;
  /** What the function does: the model reads it to decide when and how to call it. */
  description?: string;
  /** The arguments as a JSON Schema object; leave it out for a function without arguments. */
  parameters?: FunctionParameters;
  /** Whether the arguments must follow `parameters` exactly (a subset of JSON Schema is supported). */
  strict?: boolean | null;
}

/** A JSON Schema object. */
export type FunctionParameters = Readonly<Record<string, unknown>>;

/** A tool whose input is free text, or text in a grammar. */
export interface ChatCompletionCustomTool {
  type: 'custom';
  custom: {
    name: string;
    description?: string;
    /** Unconstrained text (default), or text in a Lark or regex grammar. */
    format?: { type: 'text' } | { type: 'grammar'; grammar: { definition: string; syntax: 'lark' | 'regex' } };
  };
}

export type ChatCompletionToolChoiceOption =
  | 'none'
  | 'auto'
  | 'required'
  | { type: 'function'; function: { name: string } }
  | { type: 'custom'; custom: { name: string } }
  | {
      type: 'allowed_tools';
      allowed_tools: {
        mode: 'auto' | 'required';
        /** Tool definitions as in `tools`, e.g. `{ type: 'function', function: { name: 'get_weather' } }`. */
        tools: ReadonlyArray<Readonly<Record<string, unknown>>>;
      };
    };

export interface ResponseFormatText {
  type: 'text';
}

/** Any valid JSON object (older JSON mode; the prompt must ask for JSON). */
export interface ResponseFormatJSONObject {
  type: 'json_object';
}

/** JSON that matches a schema: structured output. */
export interface ResponseFormatJSONSchema {
  type: 'json_schema';
  json_schema: {
    /** a-z, A-Z, 0-9, `_` and `-`, at most 64 characters. */
    name: string;
    description?: string;
    /** A JSON Schema object. */
    schema?: Readonly<Record<string, unknown>>;
    /** Whether the output must follow the schema exactly. */
    strict?: boolean | null;
  };
}

export interface ChatCompletionStreamOptions {
  /** Adds a last chunk with `usage` for the whole request (and `choices: []`). */
  include_usage?: boolean;
  /** Random padding in an `obfuscation` field of each chunk, against side-channel attacks (default on). */
  include_obfuscation?: boolean;
}

/** How much a reasoning model reasons; which values a model accepts depends on the model. */
export type ReasoningEffort = 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh';

/** Up to 16 keys of at most 64 characters, values of at most 512 characters. */
export type Metadata = Readonly<Record<string, string>>;

export interface ChatCompletionAudioParam {
  format: 'wav' | 'aac' | 'mp3' | 'flac' | 'opus' | 'pcm16';
  /** A built-in voice (`alloy`, `ash`, `ballad`, `coral`, `echo`, `sage`, `shimmer`, `verse`, `marin`, `cedar`) or a custom voice's `{ id }`. */
  voice: string | { id: string };
}

export interface ChatCompletionPredictionContent {
  type: 'content';
  content: string | ReadonlyArray<ChatCompletionContentPartText>;
}

export interface ChatCompletionWebSearchOptions {
  search_context_size?: 'low' | 'medium' | 'high';
  user_location?: {
    type: 'approximate';
    approximate: { city?: string; country?: string; region?: string; timezone?: string };
  } | null;
}
