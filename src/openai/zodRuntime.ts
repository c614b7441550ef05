/*
 * The pieces of zod's runtime the stream schemas use (./schema.ts, ./fastCheck.ts), in one module: the build
 * (scripts/build.mjs) replaces it in dist with a bundle of exactly these, so that a process streaming chat does
 * not load `zod/v4/core`, the narrowest entry zod's exports map offers. That entry loads 82 modules, 64 of them
 * zod's locales: +2.5 MB of heap and +11 MB of RSS in every Node process that imports openai-rx (the locales
 * alone +8.5 MB of RSS). The bundled pieces are zod's own code: schemas made with its `$constructor` are
 * recognised by the user's zod through their traits, and `globalConfig` (`z.config()`) lives on `globalThis`.
 * Browser bundlers get this module as it is (package.json's `browser` map): they tree-shake zod themselves, and a
 * bundled copy would sit beside the app's own zod.
 */
export { $constructor, globalConfig, standardProps, version } from 'zod/v4/core';
