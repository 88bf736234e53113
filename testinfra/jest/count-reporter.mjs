// Ends the run with one plain line, "N passed, N failed, N skipped", that any CI log reader
// (and a human skimming the tail) can take in at a glance, whatever Jest's own format does.
// With KIT_COUNTS_FILE set, the counts are also appended there, so scripts/check.sh can print
// one total over the main suite and the reliability suite.
import { appendFileSync } from 'node:fs'

export default class CountReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests
    // Suites that failed to run at all (a syntax error, a failing beforeAll) count as failures.
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites
    process.stdout.write(
      `\n${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`
    )
    if (process.env.KIT_COUNTS_FILE)
      appendFileSync(
        process.env.KIT_COUNTS_FILE,
        `${results.numPassedTests} ${failed} ${skipped}\n`
      )
  }
}
