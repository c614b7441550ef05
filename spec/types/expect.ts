/*
 * Type tests: the files in this folder are never run, only compiled (`npm run lint` type-checks
 * `spec`). A `@ts-expect-error` line fails the compile when the line under it compiles, so each one
 * proves that a mistake is caught; `assertType<Equal<…>>()` proves that a type is exactly right.
 */

/** `true` when `A` and `B` are the same type, not merely assignable to each other. */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Compiles only when `Condition` is `true`. */
export function assertType<_Condition extends true>(): void {}
