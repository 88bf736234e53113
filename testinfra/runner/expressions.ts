/**
 * The part of GitHub's expression language (`${{ ... }}`) that kit's example workflows use:
 * context paths (`matrix.cluster`, `needs.plan.outputs.staging`, `secrets.X`, `steps.s.outputs.y`),
 * string, number and boolean literals, `!`, `==`, `!=`, `&&`, `||`, parentheses, and the
 * functions fromJSON, toJSON, format, always, success and failure. Anything else is an error
 * naming the expression, so a workflow that outgrows this subset fails its test instead of
 * being run wrongly. Semantics follow GitHub's: a missing property is null (`''` in a string),
 * `||` and `&&` return an operand, `==` compares strings without case.
 */

export type Value = string | number | boolean | null | Value[] | { [key: string]: Value }

/** The contexts an expression reads, and the job status the status functions see. */
export interface ExpressionContext {
  readonly contexts: Record<string, Value>
  /** Whether every earlier step of the job succeeded (success(), failure()). */
  readonly jobSucceeded: boolean
}

type Token = { kind: 'str' | 'num' | 'ident'; text: string } | { kind: 'op'; text: string }

function tokenize(expr: string): Token[] {
  const tokens: Token[] = []
  const re =
    /\s*(?:('(?:[^']|'')*')|(-?\d+(?:\.\d+)?)|([A-Za-z_][\w-]*)|(==|!=|&&|\|\||[!().,[\]*]))/y
  let at = 0
  while (at < expr.length) {
    if (/^\s*$/.test(expr.slice(at))) break
    re.lastIndex = at
    const m = re.exec(expr)
    if (!m) throw new Error(`unsupported expression syntax at '${expr.slice(at)}' in: ${expr}`)
    at = re.lastIndex
    if (m[1] !== undefined)
      tokens.push({ kind: 'str', text: m[1].slice(1, -1).replace(/''/g, "'") })
    else if (m[2] !== undefined) tokens.push({ kind: 'num', text: m[2] })
    else if (m[3] !== undefined) tokens.push({ kind: 'ident', text: m[3] })
    else tokens.push({ kind: 'op', text: m[4] })
  }
  return tokens
}

const truthy = (v: Value): boolean => v !== null && v !== false && v !== 0 && v !== ''

/** A value as GitHub writes it into a string. */
export function toText(v: Value): string {
  if (v === null) return ''
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v)
}

function looseEqual(a: Value, b: Value): boolean {
  if (typeof a === 'object' || typeof b === 'object') return a === b
  if (typeof a === 'number' || typeof b === 'number') return Number(a) === Number(b)
  return toText(a).toLowerCase() === toText(b).toLowerCase()
}

/** A recursive-descent evaluator over the token list. */
class Evaluator {
  private at = 0
  constructor(
    private readonly tokens: Token[],
    private readonly ctx: ExpressionContext,
    private readonly source: string
  ) {}

  run(): Value {
    const v = this.or()
    if (this.at < this.tokens.length) this.fail(`unexpected '${this.tokens[this.at].text}'`)
    return v
  }

  private fail(why: string): never {
    throw new Error(`${why} in expression: ${this.source}`)
  }

  private peek(text: string): boolean {
    const t = this.tokens[this.at]
    return t !== undefined && t.kind === 'op' && t.text === text
  }

  private take(text: string): void {
    if (!this.peek(text)) this.fail(`expected '${text}'`)
    this.at++
  }

  private or(): Value {
    let v = this.and()
    while (this.peek('||')) {
      this.at++
      const right = this.and()
      v = truthy(v) ? v : right
    }
    return v
  }

  private and(): Value {
    let v = this.compare()
    while (this.peek('&&')) {
      this.at++
      const right = this.compare()
      v = truthy(v) ? right : v
    }
    return v
  }

  private compare(): Value {
    const left = this.unary()
    for (const op of ['==', '!=']) {
      if (this.peek(op)) {
        this.at++
        const equal = looseEqual(left, this.unary())
        return op === '==' ? equal : !equal
      }
    }
    return left
  }

  private unary(): Value {
    if (this.peek('!')) {
      this.at++
      return !truthy(this.unary())
    }
    return this.primary()
  }

  private primary(): Value {
    const t = this.tokens[this.at++]
    if (!t) this.fail('unexpected end')
    if (t.kind === 'str') return t.text
    if (t.kind === 'num') return Number(t.text)
    if (t.kind === 'op') {
      if (t.text !== '(') this.fail(`unexpected '${t.text}'`)
      const v = this.or()
      this.take(')')
      return v
    }
    if (t.text === 'true' || t.text === 'false') return t.text === 'true'
    if (t.text === 'null') return null
    if (this.peek('(')) return this.call(t.text)
    return this.path(t.text)
  }

  private call(name: string): Value {
    this.take('(')
    const args: Value[] = []
    while (!this.peek(')')) {
      args.push(this.or())
      if (!this.peek(')')) this.take(',')
    }
    this.take(')')
    switch (name) {
      case 'fromJSON':
        return JSON.parse(toText(args[0])) as Value
      case 'toJSON':
        return JSON.stringify(args[0], null, 2)
      case 'format':
        return toText(args[0]).replace(/\{(\d+)\}/g, (_m, i: string) => toText(args[Number(i) + 1]))
      case 'always':
        return true
      case 'success':
        return this.ctx.jobSucceeded
      case 'failure':
        return !this.ctx.jobSucceeded
      default:
        return this.fail(`unsupported function ${name}()`)
    }
  }

  private path(first: string): Value {
    if (!(first in this.ctx.contexts)) this.fail(`unknown context '${first}'`)
    let v: Value = this.ctx.contexts[first]
    for (;;) {
      let key: string
      if (this.peek('.')) {
        this.at++
        const t = this.tokens[this.at++]
        if (!t || t.kind !== 'ident') this.fail('expected a property name after .')
        key = t.text
      } else if (this.peek('[')) {
        this.at++
        key = toText(this.or())
        this.take(']')
      } else return v
      v = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v[key] ?? null) : null
    }
  }
}

/** Evaluates one expression (the text inside `${{ }}`). */
export function evaluate(expr: string, ctx: ExpressionContext): Value {
  return new Evaluator(tokenize(expr), ctx, expr.trim()).run()
}

/**
 * A workflow value with its `${{ }}` parts evaluated: a string that is one expression keeps the
 * expression's value (an object from fromJSON stays an object); other strings are interpolated.
 */
export function interpolate(value: unknown, ctx: ExpressionContext): Value {
  if (typeof value !== 'string') return (value ?? null) as Value
  const whole = /^\s*\$\{\{((?:(?!\}\})[\s\S])*)\}\}\s*$/.exec(value)
  if (whole) return evaluate(whole[1], ctx)
  return value.replace(/\$\{\{([\s\S]*?)\}\}/g, (_m, expr: string) => toText(evaluate(expr, ctx)))
}

/** An `if:` condition: GitHub adds success() unless the condition calls a status function. */
export function condition(text: unknown, ctx: ExpressionContext): boolean {
  if (text === undefined || text === null) return ctx.jobSucceeded
  const expr = String(text).replace(/^\s*\$\{\{([\s\S]*)\}\}\s*$/, '$1')
  const value = truthy(evaluate(expr, ctx))
  return /\b(always|success|failure|cancelled)\(\)/.test(expr) ? value : value && ctx.jobSucceeded
}
