/**
 * The fields of a streamed value that openai-rx does not type: what a
 * provider adds (Azure's `content_filter_results`, OpenRouter's `provider`,
 * llama.cpp's `timings`, the `obfuscation` padding) and what the API added
 * later. The schemas keep every field, but the types name only the ones that
 * were validated, so that `chunk.choises` does not compile; this is the
 * explicit way to the others. It returns the same object, typed as a record
 * of unknown values: check a field's type before using it. No copy is made.
 *
 * @example
 * const timings = extras(chunk).timings;                          // llama.cpp
 * const filter = extras(chunk.choices[0]).content_filter_results; // Azure
 * if (typeof extras(chunk).provider === 'string') showProvider(extras(chunk).provider); // OpenRouter
 */
export function extras(value: object): Readonly<Record<string, unknown>> {
  return value as Readonly<Record<string, unknown>>;
}
