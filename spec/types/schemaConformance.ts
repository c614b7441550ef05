import type * as z from 'zod/mini';
import type { ChatCompletionChunk, CompletionChunk, KnownResponseStreamEvent, Response } from '../../src/api';
import { chatCompletionChunkSchema } from '../../src/openai/chatTypes';
import { completionChunkSchema } from '../../src/openai/completionTypes';
import { responseEventSchemaOf, responseSchema } from '../../src/openai/responseTypes';
import { assertType, type Equal } from './expect';

/*
 * The exported types are written by hand (for their names and doc comments), the schemas are what
 * runs. These checks keep them in step: each type is exactly its schema's output without the index
 * signatures, so a field cannot be typed without being validated, nor validated as another type.
 */

/**
 * A schema's output as the strict types show it: every loose object without the `[key: string]: unknown`
 * that keeps the fields it does not name (an index signature of another type, a record, stays).
 */
type WithoutCatchAll<T> = T extends ReadonlyArray<infer Item>
  ? WithoutCatchAll<Item>[]
  : T extends object
    ? { [K in keyof T as string extends K ? (unknown extends T[K] ? never : K) : K]: WithoutCatchAll<T[K]> }
    : T;

/** A hand-written type expanded the same way, so that named interfaces and anonymous types compare. */
type Expanded<T> = T extends ReadonlyArray<infer Item> ? Expanded<Item>[] : T extends object ? { [K in keyof T]: Expanded<T[K]> } : T;

type Validated<Schema extends z.core.$ZodType> = WithoutCatchAll<z.infer<Schema>>;
type KnownEventSchema = NonNullable<ReturnType<typeof responseEventSchemaOf>>;

assertType<Equal<Validated<typeof chatCompletionChunkSchema>, Expanded<ChatCompletionChunk>>>();
assertType<Equal<Validated<typeof completionChunkSchema>, Expanded<CompletionChunk>>>();
assertType<Equal<Validated<typeof responseSchema>, Expanded<Response>>>();
assertType<Equal<Exclude<Validated<KnownEventSchema>, { type: 'response.failed' }>, Expanded<KnownResponseStreamEvent>>>();
