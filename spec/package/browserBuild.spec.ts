import { join } from 'node:path';
import { bundleForBrowser } from './bundleForBrowser';

const repoRoot = join(__dirname, '..', '..');

test('the browser entry bundles for the browser without undici or any node: module', async () => {
  const bundle = await bundleForBrowser(`export * from './src/index';`, repoRoot);

  expect(bundle.errors).toEqual([]);
  expect(bundle.warnings).toEqual([]);
  expect(bundle.inputs).toContain('src/index.ts');
  expect(bundle.inputs.filter((input) => input.includes('undici'))).toEqual([]);
  expect(bundle.code).toContain('function createClient');
  expect(bundle.code).not.toContain('undici');
  expect(bundle.code).not.toContain('node:');
});

test('the check catches a node: import (it is not vacuous)', async () => {
  const bundle = await bundleForBrowser(`export * from './src/index.node';`, repoRoot);

  expect(bundle.errors.join('\n')).toMatch(/node:/);
});

test('openai-rx/testing bundles for the browser (scripted transport, builders); the mock upstream is Node-only', async () => {
  const browser = await bundleForBrowser(`export * from './src/testing/index';`, repoRoot);
  expect(browser.errors).toEqual([]);
  expect(browser.warnings).toEqual([]);
  expect(browser.code).toContain('scriptedTransport');
  expect(browser.code).not.toContain('node:');

  const node = await bundleForBrowser(`export * from './src/testing/index.node';`, repoRoot);
  expect(node.errors.join('\n')).toMatch(/node:/);
});
