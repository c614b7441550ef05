import type * as z from 'zod/v4/core';
import { OutputValidationError, PartialJsonError, type OutputIssue } from '../errors.js';
import { absentForNull } from './absentForNull.js';

/** Like zod's `safeParse`: the validated value, or the error saying why not. */
export type OutputResult<T> = { success: true; data: T } | { success: false; error: OutputValidationError };

/**
 * Validates a value parsed from `text` against `schema` (classic `zod` or
 * `zod/mini`), applying its transforms and defaults; strict mode's `null`s
 * for absent optional properties are removed first (see `absentForNull`).
 */
export function validateOutput<S extends z.$ZodType>(schema: S, value: unknown, text: string, subject = 'The output'): OutputResult<z.output<S>> {
  // zod's synchronous parse, as its safeParse runs it: a check that throws ends the stream with its own error, run once.
  const input = absentForNull(schema, value);
  const result = runSynchronously(schema, input, subject);
  if (result.issues.length === 0) return { success: true, data: result.value as z.output<S> };
  const issues = wordedIssues(schema, input, result.issues);
  return { success: false, error: new OutputValidationError({ message: schemaFailure(subject, issues), text, issues }) };
}

/**
 * The issues as zod words them (its error maps and locale), from the schema's Standard Schema method: a second run,
 * for a value that failed, which keeps zod's issue formatting out of every bundle (~4 KB min+gzip).
 */
function wordedIssues(schema: z.$ZodType, value: unknown, raw: readonly z.$ZodRawIssue[]): readonly OutputIssue[] {
  const worded = schema['~standard'].validate(value);
  if (!(worded instanceof Promise) && worded.issues) return worded.issues as readonly OutputIssue[];
  if (worded instanceof Promise) worded.catch(() => undefined);
  return raw.map(({ code, path, message }) => ({ code, path: path ?? [], message: message ?? 'Invalid input' }) as OutputIssue);
}

function runSynchronously(schema: z.$ZodType, value: unknown, subject: string): z.ParsePayload {
  const asynchronous = (cause?: unknown) =>
    new TypeError(`${subject} cannot be validated: the schema is asynchronous (an async refinement or transform)`, { cause });
  try {
    const result = schema._zod.run({ value, issues: [] }, { async: false });
    if (!(result instanceof Promise)) return result;
    result.catch(() => undefined);
    throw asynchronous();
  } catch (error) {
    throw isZodAsyncError(error) ? asynchronous(error) : error;
  }
}

/**
 * zod's `$ZodAsyncError`, told by its message: the class that throws is the one of the zod that built the schema
 * (the user's), and importing zod's here would load all of `zod/v4/core` into every process that imports openai-rx
 * (see ../openai/zodRuntime.ts).
 */
function isZodAsyncError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('Encountered Promise during synchronous parse');
}

/** The error for text that is not JSON (or too deep or long), keeping the parser's error as `cause`. */
export function jsonFailure(error: PartialJsonError, what: string): OutputValidationError {
  return new OutputValidationError({ message: `${what} could not be parsed as JSON: ${error.message}`, text: error.text, cause: error });
}

function schemaFailure(subject: string, issues: readonly OutputIssue[]): string {
  const [first] = issues;
  if (!first) return `${subject} failed the schema`;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more ${issues.length === 2 ? 'issue' : 'issues'})` : '';
  return `${subject} failed the schema at ${formatPath(first.path)}: ${first.message}${more}`;
}

/** `items[2].name`, `["a key"]`, or `(root)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) text += text ? `.${key}` : key;
    else text += `[${JSON.stringify(String(key))}]`;
  }
  return text;
}
