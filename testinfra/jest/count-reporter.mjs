// Ends the run with one plain line, "N passed, N failed, N skipped", that any CI log reader
// (and a human skimming the tail) can take in at a glance, whatever Jest's own format does.
export default class CountReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests
    // Suites that failed to run at all (a syntax error, a failing beforeAll) count as failures.
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites
    process.stdout.write(
      `\n${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`
    )
  }
}
