import { join } from 'node:path';
import { bundleForBrowser } from '../package/bundleForBrowser';

// @opentelemetry/api is an optional peer: a browser app pays for it only when it imports the recorder.

const repoRoot = join(__dirname, '..', '..');
const otelInputs = (inputs: string[]) => inputs.filter((input) => input.includes('@opentelemetry/'));

test('everything openai-rx exports, Telemetry types included, bundles without @opentelemetry/api or the telemetry code', async () => {
  const bundle = await bundleForBrowser(`export * from './src/index';`, repoRoot);

  expect(bundle.errors).toEqual([]);
  expect(otelInputs(bundle.inputs)).toEqual([]);
  expect(bundle.inputs.filter((input) => input.startsWith('src/telemetry/'))).toEqual(['src/telemetry/observeOperation.ts']);
});

test('{ createClient, openTelemetry } bundles @opentelemetry/api', async () => {
  const bundle = await bundleForBrowser(
    `export { createClient } from './src/index'; export { openTelemetry } from './src/opentelemetry';`,
    repoRoot,
  );

  expect(bundle.errors).toEqual([]);
  expect(bundle.warnings).toEqual([]);
  expect(otelInputs(bundle.inputs).some((input) => input.includes('node_modules/@opentelemetry/api/'))).toBe(true);
});
