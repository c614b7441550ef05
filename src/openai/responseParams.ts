import type { FunctionParameters, Metadata, ReasoningEffort, ResponseFormatJSONObject, ResponseFormatText } from './chatParams.js';

/*
 * The request body of `/responses`, written from OpenAI's API reference (no
 * dependency on the official SDK). Precise like the chat parameters; a
 * provider's own fields are sent by naming them in the endpoint method's type
 * argument: `client.responses.stream<ResponseCreateParams & { … }>(…)`.
 */

/** Request body for `/responses`. openai-rx sets `stream: true` itself. */
export interface ResponseCreateParams {
  /** The model's id, e.g. `gpt-4.1-mini`. */
  model: string;
  /** A text prompt, or a list of items: messages, earlier outputs, tool results. */
  input?: string | ReadonlyArray<ResponseInputItem>;
  /** A system (developer) message placed before `input`; not carried over by `previous_response_id`. */
  instructions?: string | null;
  /** Continue from an earlier response: its output becomes part of the context. */
  previous_response_id?: string | null;
  /** The conversation this response belongs to; its items are added to the context and the response to it. */
  conversation?: string | { id: string } | null;
  /** Tools the model may call: functions, and OpenAI's built-in tools. */
  tools?: ReadonlyArray<ResponseTool>;
  /** `none`, `auto` (default with tools), `required`, or a named tool. */
  tool_choice?: ResponseToolChoice;
  /** Whether the model may call several tools in one turn. */
  parallel_tool_calls?: boolean | null;
  /** The most calls of built-in tools in this response. */
  max_tool_calls?: number | null;
  /** Text output: its `format` (plain text, JSON, a JSON schema) and `verbosity`. */
  text?: ResponseTextConfig;
  /** Reasoning models: how much they reason, and whether to return a summary of it. */
  reasoning?: ResponseReasoningConfig | null;
  /** The most tokens to generate, reasoning tokens included. */
  max_output_tokens?: number | null;
  /** Sampling temperature, 0 to 2: higher is more random. Change this or `top_p`, not both. */
  temperature?: number | null;
  /** Nucleus sampling: only the tokens within this probability mass are considered. */
  top_p?: number | null;
  /** How many most likely tokens to return at each position (0 to 20), with `include: ['message.output_text.logprobs']`. */
  top_logprobs?: number | null;
  /** Extra output to include, e.g. `reasoning.encrypted_content` or `message.output_text.logprobs`. */
  include?: ReadonlyArray<ResponseIncludable> | null;
  /** `auto` drops items from the middle of a context that is too long; `disabled` (default) fails. */
  truncation?: 'auto' | 'disabled' | null;
  /** Whether to store the response for later retrieval and `previous_response_id` (default true). */
  store?: boolean | null;
  /** Run the response in the background. */
  background?: boolean | null;
  /** A stored prompt template and its variables. */
  prompt?: ResponsePromptParam | null;
  /** Streaming options. */
  stream_options?: { include_obfuscation?: boolean } | null;
  /** Sent as `true` whatever it says here: every request openai-rx makes streams. */
  stream?: boolean | null;
  /** Up to 16 key-value pairs attached to the response. */
  metadata?: Metadata | null;
  /** `auto`, `default`, `flex`, `scale` or `priority` processing. */
  service_tier?: 'auto' | 'default' | 'flex' | 'scale' | 'priority' | null;
  /** Groups similar requests for prompt caching. */
  prompt_cache_key?: string | null;
  /** How long cached prompt prefixes are kept. */
  prompt_cache_retention?: 'in_memory' | '24h' | null;
  /** A stable id for your end user (hashed), used to detect abuse. */
  safety_identifier?: string | null;
  /** Deprecated by OpenAI in favour of `safety_identifier` and `prompt_cache_key`. */
  user?: string;
}

/**
 * One item of `input`. The items of an earlier response's `output` go back in
 * as they came, with an assertion: `...(response.output as ResponseInputItem[])`.
 * (Output items are typed loosely, `type: string`; accepting them here as
 * they are would let any item with a `type` through unchecked.)
 */
export type ResponseInputItem =
  | ResponseInputMessage
  | ResponseOutputMessageParam
  | ResponseFunctionCallParam
  | ResponseFunctionCallOutputParam
  | ResponseCustomToolCallParam
  | ResponseCustomToolCallOutputParam
  | ResponseReasoningItemParam
  | ResponseItemReference
  | ResponseComputerCallOutputParam
  | ResponseLocalShellCallOutputParam
  | ResponseMcpApprovalResponseParam;

/** A message: text, or parts (text, images, files, audio). `type: 'message'` may be left out. */
export interface ResponseInputMessage {
  type?: 'message';
  /** `developer` and `system` instructions take precedence over `user` ones; `assistant` is an earlier answer. */
  role: 'user' | 'assistant' | 'system' | 'developer';
  content: string | ReadonlyArray<ResponseInputContent>;
  status?: 'in_progress' | 'completed' | 'incomplete';
}

/** A part of an input message. */
export type ResponseInputContent = ResponseInputText | ResponseInputImage | ResponseInputFile | ResponseInputAudio;

export interface ResponseInputText {
  type: 'input_text';
  text: string;
}

/** An image: a URL (or `data:` URL with base64 data), or an uploaded file's id. */
export interface ResponseInputImage {
  type: 'input_image';
  image_url?: string | null;
  file_id?: string | null;
  /** `low` is cheaper and faster; `high` sees more detail; `auto` (default) lets the model choose. */
  detail?: 'low' | 'high' | 'auto';
}

/** A file (e.g. a PDF): an uploaded file's id, a URL, or its data inline. */
export interface ResponseInputFile {
  type: 'input_file';
  file_id?: string | null;
  file_url?: string;
  /** Base64 data, as a `data:` URL. */
  file_data?: string;
  filename?: string;
}

export interface ResponseInputAudio {
  type: 'input_audio';
  input_audio: { data: string; format: 'mp3' | 'wav' };
}

/** An earlier answer of the model, as the API returned it. */
export interface ResponseOutputMessageParam {
  type: 'message';
  role: 'assistant';
  id?: string;
  status?: 'in_progress' | 'completed' | 'incomplete';
  content: ReadonlyArray<
    { type: 'output_text'; text: string; annotations?: ReadonlyArray<unknown> } | { type: 'refusal'; refusal: string }
  >;
}

/** A function call the model made earlier; answer it with a `function_call_output` of the same `call_id`. */
export interface ResponseFunctionCallParam {
  type: 'function_call';
  call_id: string;
  name: string;
  /** JSON text. */
  arguments: string;
  id?: string;
  status?: 'in_progress' | 'completed' | 'incomplete';
}

/** The result of a function call. */
export interface ResponseFunctionCallOutputParam {
  type: 'function_call_output';
  /** The `call_id` of the call this answers. */
  call_id: string;
  /** Text (often JSON), or parts. */
  output: string | ReadonlyArray<ResponseInputText | ResponseInputImage | ResponseInputFile>;
  id?: string | null;
  status?: 'in_progress' | 'completed' | 'incomplete' | null;
}

export interface ResponseCustomToolCallParam {
  type: 'custom_tool_call';
  call_id: string;
  name: string;
  /** The free-text input the model wrote. */
  input: string;
  id?: string;
}

export interface ResponseCustomToolCallOutputParam {
  type: 'custom_tool_call_output';
  call_id: string;
  output: string | ReadonlyArray<ResponseInputText | ResponseInputImage | ResponseInputFile>;
  id?: string;
}

/** A reasoning item from an earlier response (with `encrypted_content` when `store` is false). */
export interface ResponseReasoningItemParam {
  type: 'reasoning';
  id: string;
  summary: ReadonlyArray<{ type: 'summary_text'; text: string }>;
  content?: ReadonlyArray<{ type: 'reasoning_text'; text: string }>;
  encrypted_content?: string | null;
  status?: 'in_progress' | 'completed' | 'incomplete';
}

/** An earlier item, by id. */
export interface ResponseItemReference {
  type?: 'item_reference' | null;
  id: string;
}

/** A screenshot answering a computer-use call. */
export interface ResponseComputerCallOutputParam {
  type: 'computer_call_output';
  call_id: string;
  output: { type: 'computer_screenshot'; image_url?: string; file_id?: string };
  acknowledged_safety_checks?: ReadonlyArray<{ id: string; code?: string | null; message?: string | null }> | null;
  id?: string | null;
  status?: 'in_progress' | 'completed' | 'incomplete' | null;
}

export interface ResponseLocalShellCallOutputParam {
  type: 'local_shell_call_output';
  /** The id of the local shell call this answers. */
  id: string;
  output: string;
  status?: 'in_progress' | 'completed' | 'incomplete' | null;
}

/** Approves or rejects an MCP tool call the model asked to make. */
export interface ResponseMcpApprovalResponseParam {
  type: 'mcp_approval_response';
  approval_request_id: string;
  approve: boolean;
  reason?: string | null;
  id?: string | null;
}

/** A tool the model may call. */
export type ResponseTool =
  | ResponseFunctionTool
  | ResponseCustomTool
  | ResponseWebSearchTool
  | ResponseFileSearchTool
  | ResponseCodeInterpreterTool
  | ResponseImageGenerationTool
  | ResponseMcpTool
  | ResponseComputerUseTool
  | { type: 'local_shell' };

/** A function the model may call; unlike chat's, its fields are not nested under `function`. */
export interface ResponseFunctionTool {
  type: 'function';
  name: string;
  /** What the function does: the model reads it to decide when and how to call it. */
  description?: string | null;
  /** The arguments as a JSON Schema object. */
  parameters?: FunctionParameters | null;
  /** Whether the arguments must follow `parameters` exactly (default true on the Responses API). */
  strict?: boolean | null;
}

export interface ResponseCustomTool {
  type: 'custom';
  name: string;
  description?: string;
  /** Unconstrained text (default), or text in a Lark or regex grammar. */
  format?: { type: 'text' } | { type: 'grammar'; definition: string; syntax: 'lark' | 'regex' };
}

export interface ResponseWebSearchTool {
  type: 'web_search' | 'web_search_2025_08_26' | 'web_search_preview' | 'web_search_preview_2025_03_11';
  search_context_size?: 'low' | 'medium' | 'high';
  user_location?: { type: 'approximate'; city?: string | null; country?: string | null; region?: string | null; timezone?: string | null } | null;
  filters?: { allowed_domains?: ReadonlyArray<string> | null } | null;
}

export interface ResponseFileSearchTool {
  type: 'file_search';
  vector_store_ids: ReadonlyArray<string>;
  max_num_results?: number;
  /** A comparison (`{ key, type: 'eq', value }`) or compound (`{ type: 'and', filters }`) filter on file attributes. */
  filters?: Readonly<Record<string, unknown>> | null;
  ranking_options?: { ranker?: 'auto' | 'default-2024-11-15'; score_threshold?: number };
}

export interface ResponseCodeInterpreterTool {
  type: 'code_interpreter';
  /** A container id, or `{ type: 'auto' }` to make one (with files). */
  container: string | { type: 'auto'; file_ids?: ReadonlyArray<string>; memory_limit?: '1g' | '4g' | '16g' | '64g' | null };
}

export interface ResponseImageGenerationTool {
  type: 'image_generation';
  model?: string;
  quality?: 'low' | 'medium' | 'high' | 'auto';
  size?: '1024x1024' | '1024x1536' | '1536x1024' | 'auto';
  output_format?: 'png' | 'webp' | 'jpeg';
  output_compression?: number;
  background?: 'transparent' | 'opaque' | 'auto';
  moderation?: 'auto' | 'low';
  /** How many partial images to stream (0 to 3). */
  partial_images?: number;
  input_fidelity?: 'high' | 'low' | null;
  input_image_mask?: { image_url?: string; file_id?: string };
}

/** A remote MCP server, or a connector, whose tools the model may call. */
export interface ResponseMcpTool {
  type: 'mcp';
  server_label: string;
  server_url?: string;
  connector_id?: string;
  server_description?: string;
  /** An OAuth access token for the server or connector. */
  authorization?: string;
  headers?: Readonly<Record<string, string>> | null;
  allowed_tools?: ReadonlyArray<string> | { tool_names?: ReadonlyArray<string>; read_only?: boolean } | null;
  /** `always`, `never`, or per tool. */
  require_approval?:
    | 'always'
    | 'never'
    | { always?: { tool_names?: ReadonlyArray<string>; read_only?: boolean }; never?: { tool_names?: ReadonlyArray<string>; read_only?: boolean } }
    | null;
}

export interface ResponseComputerUseTool {
  type: 'computer_use_preview';
  display_width: number;
  display_height: number;
  environment: 'windows' | 'mac' | 'linux' | 'ubuntu' | 'browser';
}

export type ResponseToolChoice =
  | 'none'
  | 'auto'
  | 'required'
  | { type: 'function'; name: string }
  | { type: 'custom'; name: string }
  | { type: 'mcp'; server_label: string; name?: string | null }
  | { type: 'allowed_tools'; mode: 'auto' | 'required'; tools: ReadonlyArray<Readonly<Record<string, unknown>>> }
  | {
      type:
        | 'file_search'
        | 'web_search_preview'
        | 'web_search_preview_2025_03_11'
        | 'computer_use_preview'
        | 'image_generation'
        | 'code_interpreter';
    };

export interface ResponseTextConfig {
  /** Plain text (default), any JSON object, or JSON that matches a schema (structured output). */
  format?: ResponseFormatText | ResponseFormatJSONObject | ResponseFormatTextJSONSchemaConfig;
  /** Shorter or longer answers. */
  verbosity?: 'low' | 'medium' | 'high' | null;
}

/** JSON that matches a schema; unlike chat's `response_format`, its fields are not nested under `json_schema`. */
export interface ResponseFormatTextJSONSchemaConfig {
  type: 'json_schema';
  /** a-z, A-Z, 0-9, `_` and `-`, at most 64 characters. */
  name: string;
  /** A JSON Schema object. */
  schema: Readonly<Record<string, unknown>>;
  description?: string;
  /** Whether the output must follow the schema exactly. */
  strict?: boolean | null;
}

export interface ResponseReasoningConfig {
  /** How much the model reasons; which values a model accepts depends on the model. */
  effort?: ReasoningEffort | null;
  /** A summary of the reasoning: `auto`, `concise` or `detailed`. */
  summary?: 'auto' | 'concise' | 'detailed' | null;
  /** Deprecated: use `summary`. */
  generate_summary?: 'auto' | 'concise' | 'detailed' | null;
}

export type ResponseIncludable =
  | 'file_search_call.results'
  | 'web_search_call.results'
  | 'web_search_call.action.sources'
  | 'message.input_image.image_url'
  | 'computer_call_output.output.image_url'
  | 'code_interpreter_call.outputs'
  | 'reasoning.encrypted_content'
  | 'message.output_text.logprobs';

export interface ResponsePromptParam {
  /** The prompt template's id. */
  id: string;
  version?: string | null;
  /** Values for the template's variables: text, or input parts. */
  variables?: Readonly<Record<string, string | ResponseInputText | ResponseInputImage | ResponseInputFile>> | null;
}
