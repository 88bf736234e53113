/**
 * describe() for suites that need the real Prometheus binary. Built (bash
 * testinfra/prometheus/build.sh, which .ci/run runs before the suite): the suite runs. Not
 * built: on a developer's machine the suite is skipped, its title and a warning saying why and
 * what to run; in CI (CI set, as GitHub Actions and most CI systems set it) it fails with that
 * reason instead, so a CI run never passes without having run it.
 */
import { describe, it } from '@jest/globals'
import { isCi } from '../../cli/src/term.js'
import { findPrometheus } from './server.js'

export function describeWithPrometheus(name: string, body: (binary: string) => void): void {
  const found = findPrometheus()
  if ('binary' in found) {
    describe(name, () => body(found.binary))
    return
  }
  if (isCi(process.env)) {
    describe(name, () => {
      it('has the Prometheus binary it needs', () => {
        throw new Error(`${found.missing} (CI is set, so a missing binary fails the suite)`)
      })
    })
    return
  }
  console.warn(`skipping "${name}": ${found.missing}`)
  describe.skip(`${name} (skipped: ${found.missing})`, () => body(''))
}
