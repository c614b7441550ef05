import type { Observable } from 'rxjs';
import type * as z from 'zod/v4/core';
import { InvalidRequestError } from '../errors.js';
import type { ChatCompletionFunctionTool, ResponseFormatJSONSchema } from './chatParams.js';
import type { ResponseFormatTextJSONSchemaConfig } from './responseParams.js';
import { strictJsonSchema } from './strictJsonSchema.js';

/*
 * zod schemas as OpenAI's strict structured-output formats and function
 * tools. Each is converted once, where it is defined: a schema strict mode
 * cannot express throws a `StrictSchemaError` there, not a 400 per request.
 * Schemas may be classic `zod` or `zod/mini`.
 */

export interface ZodFormatOptions {
  /** What the output is for: the model reads it. */
  description?: string;
}

/**
 * A chat `response_format` asking for JSON that follows `schema` (strict).
 *
 * @example
 * client.chat.completions.stream({ model, messages, response_format: zodResponseFormat(Person, 'person') })
 *   .pipe(contentOrRefusal(), structuredOutput(Person));
 */
export function zodResponseFormat(schema: z.$ZodType, name: string, options: ZodFormatOptions = {}): ResponseFormatJSONSchema {
  return {
    type: 'json_schema',
    json_schema: { name: checkedName(name), ...described(options.description), schema: strictJsonSchema(schema), strict: true },
  };
}

/**
 * A Responses `text.format` asking for JSON that follows `schema` (strict).
 *
 * @example
 * client.responses.stream({ model, input, text: { format: zodTextFormat(Person, 'person') } })
 *   .pipe(outputTextOrRefusal(), structuredOutput(Person));
 */
export function zodTextFormat(schema: z.$ZodType, name: string, options: ZodFormatOptions = {}): ResponseFormatTextJSONSchemaConfig {
  return { type: 'json_schema', name: checkedName(name), ...described(options.description), schema: strictJsonSchema(schema), strict: true };
}

/** What a tool's `execute` gets besides its arguments. */
export interface ToolContext {
  /** Aborted when the tool's result is no longer wanted (the subscriber left). */
  signal: AbortSignal;
}

/** Runs a tool: a value, a Promise or an Observable (its last value is the result). */
export type ToolExecute<Args, Result> = (args: Args, context: ToolContext) => Result | PromiseLike<Result> | Observable<Result>;

export interface ZodFunctionOptions<S extends z.$ZodType, Result> {
  /** a-z, A-Z, 0-9, `_` and `-`, at most 64 characters. */
  name: string;
  /** The arguments; an object schema. */
  parameters: S;
  /** What the function does: the model reads it to decide when and how to call it. */
  description?: string;
  execute?: ToolExecute<z.output<S>, Result>;
}

/**
 * A chat function tool made by `zodFunction`: it serializes (`JSON.stringify`,
 * `structuredClone`) as the plain tool definition; `schema` and `execute` are
 * there for the tool loop and `parseToolArguments`, not sent.
 */
export interface ZodFunctionTool<S extends z.$ZodType = z.$ZodType, Result = unknown> extends ChatCompletionFunctionTool {
  readonly schema: S;
  readonly execute?: ToolExecute<z.output<S>, Result>;
}

/**
 * A chat function tool whose parameters are a zod object schema, in strict
 * mode: `{ type: 'function', function: { name, description, parameters, strict: true } }`.
 *
 * @example
 * const getWeather = zodFunction({
 *   name: 'get_weather',
 *   parameters: z.object({ city: z.string() }),
 *   execute: ({ city }) => fetchWeather(city),
 * });
 * client.chat.completions.stream({ model, messages, tools: [getWeather] });
 */
export function zodFunction<S extends z.$ZodType, Result = unknown>(options: ZodFunctionOptions<S, Result>): ZodFunctionTool<S, Result> {
  const tool = {
    type: 'function' as const,
    function: { name: checkedName(options.name), ...described(options.description), parameters: strictJsonSchema(options.parameters), strict: true },
  };
  // Not enumerable: left out of the request body and of copies.
  return Object.defineProperties(tool, {
    schema: { value: options.parameters },
    execute: { value: options.execute },
  }) as ZodFunctionTool<S, Result>;
}

function described(description: string | undefined): { description?: string } {
  return description === undefined ? {} : { description };
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** OpenAI's rule for format and function names, checked here rather than by a 400 later. */
function checkedName(name: string): string {
  if (!NAME.test(name)) {
    throw new InvalidRequestError({ message: `${JSON.stringify(name)} is not a valid name: use 1 to 64 of a-z, A-Z, 0-9, _ and -` });
  }
  return name;
}
