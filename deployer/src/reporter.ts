/**
 * What the deployer action shows of a deploy: the action's twin of the CLI's progress printer
 * (cli/src/commands/deploy-output.ts).
 *
 * Clusters deploy concurrently, so their lines interleave live (prefixed with the cluster);
 * each cluster's full story is repeated in one collapsible group when it ends. A cluster's
 * warnings are log lines, not annotations: a failed cluster gets exactly one error annotation;
 * the warnings of successful clusters become annotations at the end, each distinct warning
 * once with the clusters it came from. Lines a cluster's work still writes after its result (a
 * deploy given up on at its deadline) go to the debug log only.
 */
import * as core from '@actions/core'
import { writeOutputs, writeSummary } from '../../shared/src/action/index.js'
import { deployerOutputValues } from '../../shared/src/outputs/values.js'
import type { DeployLog } from '../../shared/src/deploy/cluster/types.js'
import {
  clusterResultLine,
  groupWarnings,
  headline,
  isSuccess,
  outcomeIcon,
  outcomeLabel,
  renderClusterLog,
  renderSummary,
  shortReason,
  shouldFail,
  withoutClusterPrefix,
  type FleetReport,
  type FleetRow
} from '../../shared/src/deploy/fleet/index.js'

export class ActionReporter {
  /** Each cluster's lines so far, repeated in its group when it ends. */
  private readonly buffers = new Map<string, string[]>()
  /** Each cluster's warnings, annotated at the end if the cluster succeeded. */
  private readonly warnings = new Map<string, string[]>()
  private readonly finished = new Set<string>()
  /** Clusters with an error annotation already. */
  private readonly annotated = new Set<string>()

  constructor(
    /** Scrubs secrets from every line. */
    private readonly clean: (s: string) => string,
    private readonly dryRun: boolean
  ) {}

  /** The logger for one cluster's engine: `[cluster] …` lines, buffered for its group. */
  logFor(cluster: string): DeployLog {
    const buffer = this.buffers.get(cluster) ?? []
    this.buffers.set(cluster, buffer)
    const cautions = this.warnings.get(cluster) ?? []
    this.warnings.set(cluster, cautions)
    const text = (m: string): string => withoutClusterPrefix(cluster, this.clean(m))
    const emit = (line: string): void => {
      if (this.finished.has(cluster)) core.debug(`[${cluster}] (after its result) ${line}`)
      else {
        buffer.push(line)
        core.info(`[${cluster}] ${line}`)
      }
    }
    return {
      info: (m) => emit(text(m)),
      warning: (m) => {
        if (!this.finished.has(cluster)) cautions.push(text(m))
        emit(`warning: ${text(m)}`)
      },
      debug: (m) => core.debug(`[${cluster}] ${text(m)}`)
    }
  }

  /** A cluster's result: its group (result line, its lines, the result's detail) and annotation. */
  done(row: FleetRow): void {
    this.finished.add(row.cluster)
    core.startGroup(
      `${outcomeIcon(row.outcome, this.dryRun)} ${this.clean(clusterResultLine(row, this.dryRun))}`
    )
    const lines = this.buffers.get(row.cluster) ?? []
    for (const l of lines) core.info(l)
    // The engine's own lines already carry each failure's detail.
    for (const l of renderClusterLog(row, { failures: lines.length === 0 }))
      core.info(this.clean(l))
    core.endGroup()
    this.annotateFailure(row)
  }

  /**
   * After the deploy: a result line for the rows decided before any cluster started (manifests
   * without credentials: they had no group), and the successful clusters' warnings.
   */
  fleetDone(report: FleetReport): void {
    for (const row of report.rows.filter((r) => !this.finished.has(r.cluster))) {
      core.info(
        this.clean(
          `${outcomeIcon(row.outcome, this.dryRun)} ${clusterResultLine(row, this.dryRun)}`
        )
      )
      this.annotateFailure(row)
    }
    const succeeded = new Set(report.rows.filter((r) => isSuccess(r.outcome)).map((r) => r.cluster))
    for (const w of groupWarnings([...this.warnings].filter(([c]) => succeeded.has(c))))
      core.warning(w, { title: 'kit deploy' })
  }

  /** The action's outputs and its step summary. */
  async publish(report: FleetReport): Promise<void> {
    // Reasons and failure messages quote what the cluster answered: scrubbed like every line.
    const values = JSON.parse(this.clean(JSON.stringify(deployerOutputValues(report)))) as Record<
      string,
      unknown
    >
    writeOutputs('deployer', values)
    await writeSummary(this.clean(renderSummary(report)))
  }

  /** The last line, and the step's failure when the deploy failed. */
  verdict(report: FleetReport): void {
    const verdict = this.clean(`kit deploy: ${headline(report)}`)
    if (!shouldFail(report)) core.info(verdict)
    else if (this.annotated.size > 0) {
      // Each failed cluster has its error annotation already; one more would only repeat them.
      core.info(verdict)
      process.exitCode = core.ExitCode.Failure
    } else core.setFailed(verdict)
  }

  private annotateFailure(row: FleetRow): void {
    if (row.outcome !== 'failed' && row.outcome !== 'rolled-back') return
    this.annotated.add(row.cluster)
    // The cluster leads the message too: the log line of an annotation shows no title.
    core.error(this.clean(`${row.cluster}: ${shortReason(row) ?? outcomeLabel(row.outcome)}`), {
      title: `kit deploy: ${row.cluster} ${outcomeLabel(row.outcome)}`
    })
  }
}
