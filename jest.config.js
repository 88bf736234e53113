// One config for the whole suite. Tests are ESM (the @actions/* packages and
// @kubernetes/client-node are ESM-only), so Jest runs with --experimental-vm-modules
// under Node 24, the runtime the actions ship for.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  resolver: 'ts-jest-resolver',
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      // Type checking is `npm run typecheck`'s job; transpiling per file keeps the suite fast.
      { useESM: true, diagnostics: false }
    ]
  },
  testMatch: ['**/__tests__/**/*.test.ts'],
  // reliability/ has its own config and command (npm run test:reliability).
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/reliability/'],
  modulePathIgnorePatterns: ['<rootDir>/.cache/'],
  collectCoverageFrom: ['*/src/**/*.ts', '!*/src/index.ts'],
  // End-to-end suites start real control planes; give them room, and keep one worker per core.
  globalSetup: '<rootDir>/testinfra/jest/global-setup.mjs',
  globalTeardown: '<rootDir>/testinfra/jest/global-teardown.mjs',
  reporters: ['default', '<rootDir>/testinfra/jest/count-reporter.mjs'],
  testTimeout: 120000,
  maxWorkers: 2
}
