import type * as z from 'zod/v4/core';
import { PartialJsonError } from '../errors.js';
import { partialJsonParser, type PartialJsonConfig } from './partialJsonParser.js';
import { jsonFailure, validateOutput, type OutputResult } from './validateOutput.js';

/** What `parseToolArguments` needs of a tool: its arguments' zod schema (a `zodFunction` tool has it). */
export interface SchemaTool<S extends z.$ZodType = z.$ZodType> {
  readonly schema: S;
}

/**
 * A tool call's complete `arguments` text → the arguments validated by the
 * tool's schema (transforms and defaults applied, strict mode's `null`s for
 * absent optional properties removed), or an `OutputValidationError` saying
 * why not — for the tool loop to send back to the model. Never throws for bad
 * arguments; empty arguments (some servers send them for a tool without
 * parameters) count as `{}`. JSON limits as for `partialJson`.
 *
 * @example
 * const result = parseToolArguments(getWeather, call.function.arguments);
 * const output = result.success ? await getWeather.execute(result.data, { signal }) : result.error.message;
 */
export function parseToolArguments<S extends z.$ZodType>(tool: SchemaTool<S>, text: string, config: PartialJsonConfig = {}): OutputResult<z.output<S>> {
  const parser = partialJsonParser(config);
  try {
    // Some servers send no arguments at all for a tool that takes none.
    parser.push(text.trim() === '' ? '{}' : text);
    parser.end();
  } catch (error) {
    if (error instanceof PartialJsonError) return { success: false, error: jsonFailure(error, 'The arguments') };
    throw error;
  }
  return validateOutput(tool.schema, parser.value, text, 'The arguments');
}
