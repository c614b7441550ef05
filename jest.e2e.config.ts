import type { Config } from 'jest';

/*
 * End-to-end specs in headless Chromium (`npm run test:e2e`), kept out of
 * `npm test`: they need Debian's chromium and, for the Angular spec, the built
 * example. One worker: a browser and an Angular build share two cores.
 * Transform and module mapping as in jest.config.ts.
 */
const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec/e2e'],
  testMatch: ['**/*.e2e.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 60_000,
  maxWorkers: 1,
};

export default config;
