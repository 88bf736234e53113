// The reliability suite (npm run test:reliability): fault injection on real local clusters,
// the hostile-input corpus, the secret-leak scan, property-based tests and load. Same Jest
// set-up as the main suite (ESM, Node 24, the shared test clusters), its own test folder.
import base from '../jest.config.js'

export default {
  ...base,
  rootDir: '..',
  testMatch: ['<rootDir>/reliability/**/__tests__/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // Faults kill and restart processes and load tests start ten clusters: one suite at a time.
  maxWorkers: 1,
  testTimeout: 600000
}
