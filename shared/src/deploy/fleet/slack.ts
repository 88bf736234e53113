/**
 * Slack notifications through an incoming webhook: a Block Kit message when the deploy starts
 * and when it ends (or only when it fails), with a header, one row per cluster with its result
 * and, for a failure or rollback, the reason, and a link to the run.
 *
 * Slack refuses a whole message (HTTP 400 `invalid_blocks`) when one limit is exceeded, so the
 * builders keep every documented limit: at most 50 blocks, a header of 150 characters, section
 * text of 3,000, at most 10 fields of 2,000 each. A fleet too large for a block per problem
 * cluster is collapsed: successful clusters first into one list, then the problem clusters
 * past the room left into one "and N more" line.
 *
 * Every text from the run (reasons come from clusters) is scrubbed by the deploy's redactor
 * before it is cut to length (a cut secret would no longer match) and before Slack's control
 * characters are escaped (so it cannot mention `@channel` or forge a link), and the JSON is
 * scrubbed once more as it is sent. A failed notification is a warning, never a failed deploy.
 */
import { parseRetryAfter, retryDelay } from '../../k8s/client/retry.js'
import type { Redactor } from '../../secrets/redact.js'
import { plural } from '../../text/plural.js'
import type { DeployLog } from '../cluster/types.js'
import {
  countChanges,
  formatDuration,
  headline,
  outcomeIcon,
  outcomeLabel,
  shouldFail,
  shortReason,
  sortRows
} from './report.js'
import type { FleetReport, FleetRow, Wave } from './types.js'
import { isSuccess } from './types.js'

/** When Slack is told: at start and end, at the end, or only when the deploy failed. */
export const slackNotifyChoices = ['start-and-end', 'end', 'failure'] as const
export type SlackNotify = (typeof slackNotifyChoices)[number]

/** Block Kit's limits for a message (Slack's reference for blocks and text objects). */
export const slackLimits = {
  blocks: 50,
  headerChars: 150,
  textChars: 3000,
  fieldChars: 2000,
  fieldsPerSection: 10
} as const

/**
 * kit's own bound on the characters of all blocks together: far below 50 × 3,000, so a
 * message of many failures stays readable (the run's summary has every detail).
 */
const maxMessageChars = 12_000
/** Longest reason shown for one cluster. */
const maxReasonChars = 400

export interface SlackText {
  readonly type: 'mrkdwn' | 'plain_text'
  readonly text: string
}

export type SlackBlock =
  | { readonly type: 'header'; readonly text: SlackText }
  | { readonly type: 'section'; readonly text: SlackText }
  | { readonly type: 'section'; readonly fields: readonly SlackText[] }
  | { readonly type: 'context'; readonly elements: readonly SlackText[] }

/** What an incoming webhook is sent: `text` is the notification's fallback line. */
export interface SlackMessage {
  readonly text: string
  readonly blocks: readonly SlackBlock[]
}

/** What the messages say about the run besides the clusters. */
export interface SlackContext {
  readonly repository?: string
  readonly commit?: string
  /** The run's page (GitHub Actions); linked from every message. */
  readonly runUrl?: string
  /** Who runs it, shown when there is no run to link (a local `kit deploy`). */
  readonly description?: string
}

/** What the start message lists: the planned waves and the clusters refused before any ran. */
export interface SlackPlan {
  readonly waves: readonly Wave[]
  readonly preReported: readonly FleetRow[]
}

type Scrub = (text: string) => string

/** Slack's three control characters as entities, so text from a cluster is shown as it is. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/**
 * `raw` scrubbed, then escaped (mrkdwn) and cut to at most `max` characters with `…`. The cut
 * is made on the scrubbed text, by code point, so neither a secret's tail, half an entity
 * (`&am`) nor half a surrogate pair can be left.
 */
export function fitText(raw: string, max: number, scrub: Scrub, mrkdwn = true): string {
  const clean = scrub(raw)
  const shown = (s: string): string => (mrkdwn ? escapeMrkdwn(s) : s)
  const whole = shown(clean)
  if (whole.length <= max) return whole
  let out = ''
  for (const ch of clean) {
    const next = shown(ch)
    if (out.length + next.length > max - 1) break
    out += next
  }
  return `${out.trimEnd()}…`
}

/**
 * Names joined with `, ` within `max` characters, ending `and N more` when they do not all fit.
 * Each item is escaped already.
 */
function listWithin(items: readonly string[], max: number): string {
  const parts: string[] = []
  let length = 0
  for (let i = 0; i < items.length; i++) {
    const more = i < items.length - 1 ? `, and ${items.length - i - 1} more` : ''
    const add = (parts.length > 0 ? 2 : 0) + items[i].length
    // The item must fit together with the "and N more" of whatever still follows it.
    if (length + add + more.length > max) {
      const rest = items.length - i
      return parts.length > 0 ? `${parts.join(', ')}, and ${rest} more` : `${rest} clusters`
    }
    parts.push(items[i])
    length += add
  }
  return parts.join(', ')
}

const mrkdwn = (text: string): SlackText => ({ type: 'mrkdwn', text })

function header(text: string, scrub: Scrub): SlackBlock {
  return {
    type: 'header',
    text: { type: 'plain_text', text: fitText(text, slackLimits.headerChars, scrub, false) }
  }
}

function section(text: string): SlackBlock {
  return { type: 'section', text: mrkdwn(text) }
}

/** The run's link (or who ran it) and the commit, as the last block. */
function contextBlock(context: SlackContext, scrub: Scrub): SlackBlock | undefined {
  const parts: string[] = []
  if (context.runUrl && /^https?:\/\/[^\s<>|]+$/.test(context.runUrl))
    parts.push(`<${escapeMrkdwn(context.runUrl)}|View the run>`)
  else if (context.description) parts.push(fitText(context.description, 300, scrub))
  if (context.repository) parts.push(fitText(context.repository, 200, scrub))
  if (context.commit) parts.push(`commit \`${fitText(context.commit.slice(0, 12), 40, scrub)}\``)
  return parts.length > 0 ? { type: 'context', elements: [mrkdwn(parts.join(' · '))] } : undefined
}

/**
 * One problem cluster (failed, rolled back, skipped) as a section: result, reason, and its wave
 * when the run had several (`waves` false: one wave, whose name says nothing).
 */
function problemText(row: FleetRow, dryRun: boolean, scrub: Scrub, waves = false): string {
  const name = fitText(row.cluster, 200, scrub)
  const wave = waves && row.wave ? ` · wave ${fitText(row.wave, 100, scrub)}` : ''
  const head = `${outcomeIcon(row.outcome, dryRun)} *${name}*: ${outcomeLabel(row.outcome, dryRun)} (${formatDuration(row.durationMs)})${wave}`
  const reason = row.reason?.split('\n')[0].trim() || shortReason(row)
  return reason ? `${head}\n>${fitText(reason, maxReasonChars, scrub)}` : head
}

/** One successful cluster as a field: name, result and what changed. */
function successField(row: FleetRow, dryRun: boolean, scrub: Scrub): SlackText {
  const counts = countChanges(row.changes)
  return mrkdwn(
    `${outcomeIcon(row.outcome, dryRun)} *${fitText(row.cluster, 200, scrub)}*\n${outcomeLabel(row.outcome, dryRun)}${counts ? `: ${counts}` : ''} (${formatDuration(row.durationMs)})`
  )
}

/** Successful clusters as one section: `✅ *changed (40):* a, b, …` per outcome. */
function successList(rows: readonly FleetRow[], dryRun: boolean, scrub: Scrub): SlackBlock {
  const lines: string[] = []
  const outcomes = [...new Set(rows.map((r) => r.outcome))]
  const each = Math.floor(slackLimits.textChars / Math.max(1, outcomes.length)) - 60
  for (const outcome of outcomes) {
    const names = rows
      .filter((r) => r.outcome === outcome)
      .map((r) => fitText(r.cluster, 200, scrub))
    lines.push(
      `${outcomeIcon(outcome, dryRun)} *${outcomeLabel(outcome, dryRun)} (${names.length}):* ${listWithin(names, each)}`
    )
  }
  return section(lines.join('\n'))
}

/** Problem clusters that got no block of their own, by name and result. */
function moreProblems(rows: readonly FleetRow[], dryRun: boolean, scrub: Scrub): SlackBlock {
  const items = rows.map(
    (r) => `${fitText(r.cluster, 200, scrub)} (${outcomeLabel(r.outcome, dryRun)})`
  )
  const intro = `…and ${plural(rows.length, 'more cluster', 'more clusters')} that did not succeed: `
  return section(`${intro}${listWithin(items, slackLimits.textChars - intro.length)}`)
}

const blockChars = (b: SlackBlock): number => JSON.stringify(b).length

/**
 * The cluster rows within `room` blocks and the message's character bound: a section per
 * problem cluster (failures first), the successful clusters as fields, ten per section. When
 * that does not fit, the successful clusters become one list, then the problem clusters past
 * the room left are named in one "and N more" section.
 */
export function clusterBlocks(
  rows: readonly FleetRow[],
  dryRun: boolean,
  scrub: Scrub,
  room: number,
  maxChars = maxMessageChars
): SlackBlock[] {
  const sorted = sortRows(rows)
  const problems = sorted.filter((r) => !isSuccess(r.outcome))
  const successes = sorted.filter((r) => isSuccess(r.outcome))
  const waves = new Set(rows.map((r) => r.wave).filter((w) => w !== undefined)).size > 1
  const problemBlocks = problems.map((r) => section(problemText(r, dryRun, scrub, waves)))
  const fieldBlocks: SlackBlock[] = []
  for (let i = 0; i < successes.length; i += slackLimits.fieldsPerSection)
    fieldBlocks.push({
      type: 'section',
      fields: successes
        .slice(i, i + slackLimits.fieldsPerSection)
        .map((r) => successField(r, dryRun, scrub))
    })
  const total = (blocks: readonly SlackBlock[]): number =>
    blocks.reduce((n, b) => n + blockChars(b), 0)
  const all = [...problemBlocks, ...fieldBlocks]
  if (all.length <= room && total(all) <= maxChars) return all
  const successBlocks = successes.length > 0 ? [successList(successes, dryRun, scrub)] : []
  if (problemBlocks.length + successBlocks.length <= room)
    if (total([...problemBlocks, ...successBlocks]) <= maxChars)
      return [...problemBlocks, ...successBlocks]
  // Keep as many problem sections as fit with the "and N more" section and the success list.
  let shown = Math.min(problemBlocks.length, Math.max(0, room - successBlocks.length - 1))
  const build = (n: number): SlackBlock[] => [
    ...problemBlocks.slice(0, n),
    ...(n < problems.length ? [moreProblems(problems.slice(n), dryRun, scrub)] : []),
    ...successBlocks
  ]
  while (shown > 0 && total(build(shown)) > maxChars) shown--
  return build(shown)
}

/** The message's fixed blocks around the rows, and the rows within what is left. */
function assemble(
  top: readonly SlackBlock[],
  rows: (room: number, maxChars: number) => SlackBlock[],
  context: SlackContext,
  scrub: Scrub
): SlackBlock[] {
  const last = contextBlock(context, scrub)
  const fixed = [...top, ...(last ? [last] : [])]
  const used = fixed.reduce((n, b) => n + blockChars(b), 0)
  return [
    ...top,
    ...rows(slackLimits.blocks - fixed.length, Math.max(1000, maxMessageChars - used)),
    ...(last ? [last] : [])
  ]
}

function commitText(context: SlackContext, scrub: Scrub): string {
  const where = context.repository ? ` of ${fitText(context.repository, 200, scrub, false)}` : ''
  return context.commit ? ` ${fitText(context.commit.slice(0, 7), 7, scrub, false)}${where}` : where
}

/** The message when the deploy ends: how it went, a row per cluster, the run's link. */
export function slackEndMessage(
  report: FleetReport,
  context: SlackContext,
  scrub: Scrub
): SlackMessage {
  const failed = shouldFail(report)
  const what = report.dryRun ? 'Dry run' : 'Deploy'
  const title = `${failed ? '❌' : report.dryRun ? '📝' : '✅'} ${what}${commitText(context, scrub)} ${failed ? 'failed' : 'finished'}`
  const line = `${headline(report)} in ${formatDuration(report.durationMs)}`
  const top = [header(title, scrub), section(`*${fitText(line, 1000, scrub)}*`)]
  return {
    text: fitText(`${title}: ${line}`, slackLimits.textChars, scrub),
    blocks: assemble(
      top,
      (room, maxChars) => clusterBlocks(report.rows, report.dryRun, scrub, room, maxChars),
      context,
      scrub
    )
  }
}

/** The message when the deploy starts: the clusters of each wave, and those refused already. */
export function slackStartMessage(
  plan: SlackPlan,
  dryRun: boolean,
  context: SlackContext,
  scrub: Scrub
): SlackMessage {
  const clusters = plan.waves.reduce((n, w) => n + w.clusters.length, 0)
  const title = `🚀 ${dryRun ? 'Dry run' : 'Deploy'}${commitText(context, scrub)} started`
  const line = `${dryRun ? 'Comparing' : 'Deploying to'} ${plural(clusters, 'cluster')}${plan.waves.length > 1 ? ` in ${plan.waves.length} waves` : ''}`
  const top = [header(title, scrub), section(`*${line}*`)]
  const rows = (room: number): SlackBlock[] => {
    const waves = plan.waves.map((w) => {
      const names = w.clusters.map((c) => fitText(c, 200, scrub))
      const label = plan.waves.length > 1 ? `*Wave ${fitText(w.name, 100, scrub)}:* ` : ''
      return section(`${label}${listWithin(names, slackLimits.textChars - label.length)}`)
    })
    const refused = plan.preReported.map((r) => section(problemText(r, dryRun, scrub)))
    const all = [...waves, ...refused]
    if (all.length <= room) return all
    const overflow = all.length - room + 1
    return [
      ...all.slice(0, room - 1),
      section(`…and ${plural(overflow, 'more wave or cluster', 'more waves or clusters')}`)
    ]
  }
  return {
    text: fitText(`${title}: ${line}`, slackLimits.textChars, scrub),
    blocks: assemble(top, rows, context, scrub)
  }
}

/** The message when the deploy stopped on an error of its own (bad input, unreadable files). */
export function slackErrorMessage(
  error: string,
  started: boolean,
  context: SlackContext,
  scrub: Scrub
): SlackMessage {
  const title = `❌ Deploy${commitText(context, scrub)} ${started ? 'stopped' : 'could not start'}`
  const what = started
    ? 'The deploy stopped with an error:'
    : 'The deploy stopped before any cluster was touched:'
  return {
    text: fitText(`${title}: ${error.split('\n')[0]}`, slackLimits.textChars, scrub),
    blocks: assemble(
      [header(title, scrub)],
      () => [section(`${what}\n>${fitText(error.split('\n')[0], 2000, scrub)}`)],
      context,
      scrub
    )
  }
}

/** Whether a message is sent: the start only for start-and-end; the end unless only failures. */
export function slackWanted(notify: SlackNotify, phase: 'start' | 'end', failed: boolean): boolean {
  if (phase === 'start') return notify === 'start-and-end'
  return notify !== 'failure' || failed
}

/** How one message is sent: bounded in time, retried once when Slack is busy or failing. */
export interface SlackSendOptions {
  readonly redactor: Redactor
  /** One request's limit (default 10 s). */
  readonly attemptTimeoutMs?: number
  /** Both attempts and the wait between them (default 30 s): a Retry-After past it is not waited for. */
  readonly budgetMs?: number
  readonly fetchImpl?: typeof fetch
  readonly now?: () => number
  readonly sleep?: (ms: number) => Promise<void>
  readonly random?: () => number
}

/** The first short line of what Slack answered (`invalid_blocks`), for the warning. */
async function answerOf(response: Response, scrub: Scrub): Promise<string> {
  const text = await response.text().catch(() => '')
  const line = text.split('\n')[0].trim().slice(0, 120)
  return line ? ` (${scrub(line)})` : ''
}

/**
 * POSTs the message; resolves with the attempts made, or throws with a redacted reason that
 * never holds the URL (the webhook's URL is its credential). HTTP 429 and 5xx are retried once,
 * after Retry-After when Slack sent one (unless that is past the budget); nothing else is.
 */
export async function sendSlack(
  url: string,
  message: SlackMessage,
  options: SlackSendOptions
): Promise<number> {
  const scrub: Scrub = (s) => options.redactor.scrub(s)
  const now = options.now ?? Date.now
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)))
  const doFetch = options.fetchImpl ?? fetch
  const body = scrub(JSON.stringify(message))
  const deadline = now() + (options.budgetMs ?? 30_000)
  for (let attempt = 1; ; attempt++) {
    const left = deadline - now()
    if (left <= 0) throw new Error('out of time before Slack answered')
    let response: Response
    try {
      response = await doFetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'kit-deployer'
        },
        body,
        signal: AbortSignal.timeout(Math.min(options.attemptTimeoutMs ?? 10_000, left))
      })
    } catch (err) {
      const e = err as {
        name?: string
        message?: string
        cause?: { code?: string; message?: string }
      }
      if (e.name === 'TimeoutError') throw new Error('Slack did not answer in time', { cause: err })
      throw new Error(
        scrub(
          `could not reach Slack: ${e.cause?.code ?? e.cause?.message ?? e.message ?? String(err)}`
        ),
        { cause: err }
      )
    }
    if (response.ok) {
      await response.arrayBuffer().catch(() => undefined)
      return attempt
    }
    const answer = `Slack answered HTTP ${response.status}${await answerOf(response, scrub)}`
    const retryable = response.status === 429 || response.status >= 500
    if (!retryable || attempt > 1) throw new Error(attempt > 1 ? `${answer} again` : answer)
    const retryAfter = parseRetryAfter(response.headers.get('retry-after') ?? undefined, now())
    const room = deadline - now()
    if (retryAfter !== undefined && retryAfter * 1000 >= room)
      throw new Error(
        `${answer} and asked to retry after ${retryAfter} s, past the notification's limit of ${Math.round((options.budgetMs ?? 30_000) / 1000)} s`
      )
    await sleep(
      retryDelay(
        1,
        { baseDelayMs: 1000, maxDelayMs: Math.max(1, room - 1000) },
        retryAfter,
        options.random
      )
    )
  }
}

/** What a notifier needs from the run: its settings, what to say, where to warn. */
export interface SlackNotifierSettings {
  readonly url: string
  readonly notify: SlackNotify
  readonly dryRun: boolean
  readonly context: SlackContext
  /** Whether the run failed (default: shouldFail, as the exit code). */
  readonly failed?: (report: FleetReport) => boolean
}

/** The notifications of one run, in order: the start never arrives after the end. */
export interface SlackNotifier {
  /** Sends the start message in the background (the deploy does not wait for Slack). */
  started(plan: SlackPlan): void
  /** Sends the end message (after the start's has settled) when it is wanted. */
  finished(report: FleetReport): Promise<void>
  /** The run threw: tells Slack what stopped it (every choice of `slack-notify` wants it). */
  stopped(error: unknown): Promise<void>
}

export function createSlackNotifier(
  settings: SlackNotifierSettings,
  deps: SlackSendOptions & { readonly log: DeployLog }
): SlackNotifier {
  const scrub: Scrub = (s) => deps.redactor.scrub(s)
  let start: Promise<void> | undefined
  let planned = false
  const send = async (phase: string, message: SlackMessage): Promise<void> => {
    try {
      await sendSlack(settings.url, message, deps)
    } catch (err) {
      deps.log.warning(
        scrub(
          `Slack ${phase} notification not sent: ${err instanceof Error ? err.message : String(err)}`
        )
      )
    }
  }
  return {
    started(plan) {
      if (planned) return
      planned = true
      if (!slackWanted(settings.notify, 'start', false)) return
      start = send('start', slackStartMessage(plan, settings.dryRun, settings.context, scrub))
    },
    async finished(report) {
      await start
      const failed = (settings.failed ?? shouldFail)(report)
      if (slackWanted(settings.notify, 'end', failed))
        await send('end', slackEndMessage(report, settings.context, scrub))
    },
    async stopped(error) {
      await start
      const text = error instanceof Error ? error.message : String(error)
      await send('end', slackErrorMessage(text, planned, settings.context, scrub))
    }
  }
}
