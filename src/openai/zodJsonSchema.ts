/*
 * zod's `toJSONSchema`, for ./strictJsonSchema.ts. Like ./zodRuntime.ts (see there why), the build replaces it in
 * dist with a bundle of zod's own code for it alone. It reads the user's schemas through their definitions, and
 * their metadata (`.describe()`, `.meta()`) through zod's registry, which lives on `globalThis`.
 */
export { toJSONSchema } from 'zod/v4/core';
