/** Shared helpers of the deploy-cluster suites (not a test file). */
import { expect } from '@jest/globals'
import { Redactor } from '../../src/secrets/redact.js'
import { parseManifests } from '../../src/k8s/manifests.js'
import type { DeployClusterOptions, Manifest } from '../../src/deploy/cluster/types.js'

/** Manifests from inline YAML (one or more documents). */
export function manifestsFrom(yaml: string, file = 'inline.yaml'): Manifest[] {
  return parseManifests(yaml, file)
}

/** A log that keeps every line for assertions. */
export function memoryLog(): DeployClusterOptions['log'] & { lines: string[]; text(): string } {
  const lines: string[] = []
  return {
    lines,
    info: (m) => lines.push(`info: ${m}`),
    warning: (m) => lines.push(`warning: ${m}`),
    debug: (m) => lines.push(`debug: ${m}`),
    text: () => lines.join('\n')
  }
}

/** Options suited to the local clusters: short timers so failures surface in seconds. */
export function fastOptions(overrides: Partial<DeployClusterOptions> = {}): DeployClusterOptions & {
  log: ReturnType<typeof memoryLog>
} {
  return {
    dryRun: false,
    wait: true,
    timeoutMs: 60_000,
    failFast: { graceMs: 3_000, unschedulableMs: 10_000, threshold: 1 },
    rollbackOnFailure: true,
    redactor: new Redactor(),
    pollMs: 500,
    heartbeatMs: 5_000,
    ...overrides,
    log: memoryLog()
  }
}

/** Asserts a cluster outcome; on a mismatch the failure shows the reason and the whole log. */
export function expectOutcome(
  result: { outcome: string; reason?: string },
  options: { log: { text(): string } },
  outcome: string
): void {
  const shown = (r: { outcome: string; reason?: string }) =>
    r.outcome === outcome
      ? { outcome }
      : { outcome: r.outcome, reason: r.reason, log: options.log.text() }
  expect(shown(result)).toEqual({ outcome })
}
