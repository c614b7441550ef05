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
  // The schema's own Standard Schema method: it brings zod's parsing and issue messages, so none of zod is bundled with ours.
  const result = schema['~standard'].validate(absentForNull(schema, value));
  if (result instanceof Promise) {
    result.catch(() => undefined);
    throw new TypeError(`${subject} cannot be validated: the schema is asynchronous, or a check of it threw`);
  }
  if (!result.issues) return { success: true, data: result.value as z.output<S> };
  const issues = result.issues as readonly OutputIssue[];
  return { success: false, error: new OutputValidationError({ message: schemaFailure(subject, issues), text, issues }) };
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
