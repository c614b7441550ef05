/** The first problem zod found, said plainly: where (`messages.0.role`, or `null` at the top) and what. */
export interface IssueSummary {
  path: string | null;
  text: string;
}

/** What is read of one of zod's issues: those of zod's own errors, and the raw ones of `safeParse` in ./schema.ts. */
export interface SummarizedIssue {
  readonly code?: string;
  readonly path?: readonly PropertyKey[];
  readonly expected?: string;
  readonly message?: string;
}

/**
 * zod/mini loads no locale, so its own messages are generic ("Invalid input");
 * the expected type says what was wrong.
 *
 * @example
 * const { path, text } = issueSummary(result.error); // { path: 'messages', text: 'expected array' }
 */
export function issueSummary(error: { readonly issues: readonly SummarizedIssue[] }): IssueSummary {
  const issue = error.issues[0];
  const path = issue?.path?.length ? issue.path.join('.') : null;
  const text =
    issue?.code === 'invalid_type' ? `expected ${issue.expected}` : issue?.code === 'too_small' ? 'must not be empty' : (issue?.message ?? 'invalid');
  return { path, text };
}
