/**
 * A small metrics exporter the tests drive: Node's http server on 127.0.0.1 (random port)
 * serving /metrics in the Prometheus text format (version 0.0.4), which the real Prometheus of
 * ./server.ts scrapes. A test declares counters and gauges, then sets values or gives a counter
 * a steady rate (a service answering 98 requests a second with 200 and 2 with 500), and changes
 * them while Prometheus watches.
 *
 * A counter with a rate grows with the clock and is computed when scraped, so its rate() in
 * Prometheus is exactly what the test set, however late a timer would have fired on a busy
 * machine.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'

export type Labels = Readonly<Record<string, string>>

export interface Exporter {
  /** http://127.0.0.1:<port> */
  readonly url: string
  /** 127.0.0.1:<port>, as a scrape config's static target. */
  readonly target: string
  /** Declares a counter family (values only rise; `set` is refused). */
  counter(name: string, help: string): void
  /** Declares a gauge family. */
  gauge(name: string, help: string): void
  /** Adds to a counter's series (created at 0 when new). */
  add(name: string, labels: Labels, by?: number): void
  /** Sets a gauge's series. */
  set(name: string, labels: Labels, value: number): void
  /** From now on a counter's series grows by `perSecond` each second (0 stops it). */
  setRate(name: string, labels: Labels, perSecond: number): void
  /** The current value of a series (undefined when it does not exist). */
  value(name: string, labels: Labels): number | undefined
  /** From now on /metrics answers 503 (true) or is served again (false): a target that is down. */
  failScrapes(fail: boolean): void
  /** The /metrics requests answered so far, failed ones included. */
  readonly scrapes: number
  /** The text /metrics serves now. */
  render(): string
  close(): Promise<void>
}

interface Series {
  readonly labels: Labels
  /** The value at `since`. */
  base: number
  /** Per second, from `since` on (counters only). */
  rate: number
  since: number
}

interface Family {
  readonly type: 'counter' | 'gauge'
  readonly help: string
  readonly series: Map<string, Series>
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/
export const contentType = 'text/plain; version=0.0.4; charset=utf-8'

/** A label value or HELP text as the text format writes it. */
const escape = (s: string, quotes: boolean) =>
  s.replace(quotes ? /[\\"\n]/g : /[\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))

function seriesKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escape(labels[k], true)}"`)
    .join(',')
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return String(v)
}

export class MetricsRegistry {
  private readonly families = new Map<string, Family>()

  constructor(private readonly now: () => number = () => Date.now() / 1000) {}

  declare(type: Family['type'], name: string, help: string): void {
    if (!metricName.test(name))
      throw new Error(`exporter: '${name}' is not a metric name (${metricName.source})`)
    const existing = this.families.get(name)
    if (existing && existing.type !== type)
      throw new Error(`exporter: ${name} is already declared as a ${existing.type}`)
    if (!existing) this.families.set(name, { type, help, series: new Map() })
  }

  private series(name: string, labels: Labels, want?: Family['type']): Series {
    const family = this.families.get(name)
    if (!family) throw new Error(`exporter: ${name} is not declared (call counter() or gauge())`)
    if (want && family.type !== want)
      throw new Error(`exporter: ${name} is a ${family.type}, not a ${want}`)
    for (const k of Object.keys(labels)) {
      if (!labelName.test(k) || k.startsWith('__'))
        throw new Error(`exporter: '${k}' is not a label name for ${name}`)
    }
    const key = seriesKey(labels)
    let s = family.series.get(key)
    if (!s) {
      s = { labels: { ...labels }, base: 0, rate: 0, since: this.now() }
      family.series.set(key, s)
    }
    return s
  }

  private current(s: Series, at: number): number {
    return s.base + s.rate * (at - s.since)
  }

  add(name: string, labels: Labels, by = 1): void {
    if (this.families.get(name)?.type === 'counter' && !(by >= 0))
      throw new Error(`exporter: counter ${name} can only rise (asked to add ${by})`)
    this.series(name, labels).base += by
  }

  set(name: string, labels: Labels, value: number): void {
    this.series(name, labels, 'gauge').base = value
  }

  setRate(name: string, labels: Labels, perSecond: number): void {
    if (!(perSecond >= 0) || !Number.isFinite(perSecond))
      throw new Error(`exporter: a counter's rate is a finite number >= 0 (got ${perSecond})`)
    const s = this.series(name, labels, 'counter')
    const at = this.now()
    s.base = this.current(s, at)
    s.since = at
    s.rate = perSecond
  }

  value(name: string, labels: Labels): number | undefined {
    const s = this.families.get(name)?.series.get(seriesKey(labels))
    return s && this.current(s, this.now())
  }

  render(): string {
    const at = this.now()
    const lines: string[] = []
    for (const [name, family] of this.families) {
      lines.push(`# HELP ${name} ${escape(family.help, false)}`, `# TYPE ${name} ${family.type}`)
      for (const [key, s] of family.series) {
        lines.push(`${name}${key ? `{${key}}` : ''} ${formatValue(this.current(s, at))}`)
      }
    }
    return lines.length ? `${lines.join('\n')}\n` : ''
  }
}

/** Starts an exporter with no metrics declared. */
export async function startExporter(): Promise<Exporter> {
  const registry = new MetricsRegistry()
  let failing = false
  let scrapes = 0
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only /metrics is served\n')
      return
    }
    scrapes++
    if (failing) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('failing on purpose\n')
      return
    }
    res.writeHead(200, { 'content-type': contentType }).end(registry.render())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('exporter: no TCP address')
  const target = `127.0.0.1:${address.port}`
  return {
    url: `http://${target}`,
    target,
    counter: (name, help) => registry.declare('counter', name, help),
    gauge: (name, help) => registry.declare('gauge', name, help),
    add: (name, labels, by) => registry.add(name, labels, by),
    set: (name, labels, value) => registry.set(name, labels, value),
    setRate: (name, labels, perSecond) => registry.setRate(name, labels, perSecond),
    value: (name, labels) => registry.value(name, labels),
    failScrapes: (fail) => {
      failing = fail
    },
    get scrapes() {
      return scrapes
    },
    render: () => registry.render(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      })
  }
}
