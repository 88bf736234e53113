/**
 * Block Kit validation as Slack documents it for messages (docs.slack.dev, "Block Kit" →
 * blocks reference and composition objects), written from the documentation and not from kit's
 * builder, so a builder that breaks a limit is caught here:
 *
 * - a message holds at most 50 blocks; `blocks` must be an array (else `invalid_blocks_format`);
 *   a message needs `text` or `blocks` (else `no_text`);
 * - header: a `plain_text` object of 1-150 characters;
 * - section: `text` (a text object of at most 3,000 characters) and/or `fields` (1-10 text
 *   objects of at most 2,000 each), one of the two required;
 * - context: 1-10 elements, text objects or images;
 * - divider; actions: 1-25 elements; a button's text is `plain_text` of at most 75, its `url`
 *   at most 3,000, its `value` at most 2,000, its `action_id` at most 255;
 * - a text object: `type` `plain_text` or `mrkdwn`, `text` of 1-3,000 characters, `emoji` only
 *   on plain_text, `verbatim` only on mrkdwn;
 * - `block_id`: at most 255 characters, unique in the message; a block has no other fields.
 *
 * Any of these broken is `invalid_blocks`, as Slack answers it. mrkdwn is also read for what
 * Slack would do with it without refusing it: links, mentions (`<!channel>` notifies a whole
 * channel) and control characters left unescaped (`&`, `<`, `>`), reported for tests to check.
 */

/** Slack's documented limits, by what they bound. */
export const blockKitLimits = {
  blocksPerMessage: 50,
  headerText: 150,
  textObject: 3000,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonUrl: 3000,
  buttonValue: 2000,
  actionId: 255,
  blockId: 255,
  /** Top-level text longer than this is truncated by Slack (not refused). */
  messageText: 40_000
} as const

/** What Slack answers a refused message with (the response body of HTTP 400). */
export type SlackRefusal =
  'invalid_payload' | 'no_text' | 'invalid_blocks' | 'invalid_blocks_format'

/** What reading the mrkdwn of a message found. */
export interface MrkdwnFindings {
  /** `<url|label>` and `<url>` links: the URLs. */
  readonly links: string[]
  /** `<!here>`, `<!channel>`, `<!everyone>`, `<!subteam^…>`, `<@U…>`, `<#C…>`. */
  readonly mentions: string[]
  /** Control characters Slack would parse: `<`/`>` outside a token, `&` outside an entity. */
  readonly unescaped: string[]
}

export interface Validation {
  /** Set when Slack would refuse the message: the body of its HTTP 400. */
  readonly refusal?: SlackRefusal
  /** Each broken rule, with a JSON pointer to where. */
  readonly problems: string[]
  /** Texts of the message, by kind, to assert on. */
  readonly texts: { header: string[]; mrkdwn: string[]; plain: string[] }
  readonly mrkdwn: MrkdwnFindings
  /** Things Slack accepts but changes (top-level text truncated). */
  readonly notes: string[]
}

type Json = Record<string, unknown>

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

class Checker {
  readonly problems: string[] = []
  readonly texts = { header: [] as string[], mrkdwn: [] as string[], plain: [] as string[] }
  private readonly blockIds = new Set<string>()

  fail(pointer: string, problem: string): void {
    this.problems.push(`${pointer}: ${problem}`)
  }

  onlyFields(o: Json, pointer: string, allowed: readonly string[]): void {
    for (const key of Object.keys(o))
      if (!allowed.includes(key)) this.fail(`${pointer}/${key}`, 'is not a field of this object')
  }

  /** A text object; `max` is the limit of the field it fills, `plainOnly` for headers and buttons. */
  text(v: unknown, pointer: string, max: number, plainOnly = false): void {
    if (!isObject(v)) return this.fail(pointer, 'must be a text object')
    this.onlyFields(v, pointer, ['type', 'text', 'emoji', 'verbatim'])
    if (v.type !== 'plain_text' && v.type !== 'mrkdwn')
      return this.fail(`${pointer}/type`, 'must be plain_text or mrkdwn')
    if (plainOnly && v.type !== 'plain_text') this.fail(`${pointer}/type`, 'must be plain_text')
    if (typeof v.text !== 'string') return this.fail(`${pointer}/text`, 'must be a string')
    if (v.text.length < 1) this.fail(`${pointer}/text`, 'must not be empty')
    if (v.text.length > Math.min(max, blockKitLimits.textObject))
      this.fail(`${pointer}/text`, `is ${v.text.length} characters; at most ${max}`)
    if (v.emoji !== undefined && (v.type !== 'plain_text' || typeof v.emoji !== 'boolean'))
      this.fail(`${pointer}/emoji`, 'is a boolean of plain_text only')
    if (v.verbatim !== undefined && (v.type !== 'mrkdwn' || typeof v.verbatim !== 'boolean'))
      this.fail(`${pointer}/verbatim`, 'is a boolean of mrkdwn only')
    ;(v.type === 'mrkdwn' ? this.texts.mrkdwn : this.texts.plain).push(v.text)
  }

  array(v: unknown, pointer: string, min: number, max: number): unknown[] {
    if (!Array.isArray(v)) {
      this.fail(pointer, 'must be an array')
      return []
    }
    if (v.length < min || v.length > max)
      this.fail(pointer, `has ${v.length} items; ${min} to ${max} are allowed`)
    return v
  }

  blockId(v: unknown, pointer: string): void {
    if (v === undefined) return
    if (typeof v !== 'string' || v.length < 1 || v.length > blockKitLimits.blockId)
      return this.fail(pointer, `must be a string of 1 to ${blockKitLimits.blockId} characters`)
    if (this.blockIds.has(v)) this.fail(pointer, `repeats block_id ${JSON.stringify(v)}`)
    this.blockIds.add(v)
  }

  button(v: Json, pointer: string): void {
    this.onlyFields(v, pointer, ['type', 'text', 'action_id', 'url', 'value', 'style'])
    this.text(v.text, `${pointer}/text`, blockKitLimits.buttonText, true)
    const bounded = [
      ['action_id', blockKitLimits.actionId],
      ['url', blockKitLimits.buttonUrl],
      ['value', blockKitLimits.buttonValue]
    ] as const
    for (const [key, max] of bounded) {
      const x = v[key]
      if (x !== undefined && (typeof x !== 'string' || x.length < 1 || x.length > max))
        this.fail(`${pointer}/${key}`, `must be a string of 1 to ${max} characters`)
    }
    if (v.style !== undefined && v.style !== 'primary' && v.style !== 'danger')
      this.fail(`${pointer}/style`, 'must be primary or danger')
  }

  image(v: Json, pointer: string): void {
    this.onlyFields(v, pointer, ['type', 'image_url', 'alt_text'])
    if (typeof v.image_url !== 'string' || typeof v.alt_text !== 'string')
      this.fail(pointer, 'an image needs image_url and alt_text')
  }

  block(b: unknown, pointer: string): void {
    if (!isObject(b)) return this.fail(pointer, 'must be a block object')
    this.blockId(b.block_id, `${pointer}/block_id`)
    switch (b.type) {
      case 'header':
        this.onlyFields(b, pointer, ['type', 'block_id', 'text'])
        return this.text(b.text, `${pointer}/text`, blockKitLimits.headerText, true)
      case 'section':
        return this.section(b, pointer)
      case 'context':
        this.onlyFields(b, pointer, ['type', 'block_id', 'elements'])
        this.array(b.elements, `${pointer}/elements`, 1, blockKitLimits.contextElements).forEach(
          (e, i) => {
            if (isObject(e) && e.type === 'image') this.image(e, `${pointer}/elements/${i}`)
            else this.text(e, `${pointer}/elements/${i}`, blockKitLimits.textObject)
          }
        )
        return
      case 'divider':
        return this.onlyFields(b, pointer, ['type', 'block_id'])
      case 'actions':
        this.onlyFields(b, pointer, ['type', 'block_id', 'elements'])
        this.array(b.elements, `${pointer}/elements`, 1, blockKitLimits.actionsElements).forEach(
          (e, i) => {
            if (isObject(e) && e.type === 'button') this.button(e, `${pointer}/elements/${i}`)
            else this.fail(`${pointer}/elements/${i}`, 'this receiver knows button elements only')
          }
        )
        return
      default:
        return this.fail(`${pointer}/type`, `unknown block type ${JSON.stringify(b.type)}`)
    }
  }

  section(b: Json, pointer: string): void {
    this.onlyFields(b, pointer, ['type', 'block_id', 'text', 'fields', 'accessory'])
    if (b.text === undefined && b.fields === undefined)
      this.fail(pointer, 'a section needs text or fields')
    if (b.text !== undefined) this.text(b.text, `${pointer}/text`, blockKitLimits.sectionText)
    if (b.fields !== undefined)
      this.array(b.fields, `${pointer}/fields`, 1, blockKitLimits.sectionFields).forEach((f, i) =>
        this.text(f, `${pointer}/fields/${i}`, blockKitLimits.fieldText)
      )
    if (b.accessory !== undefined) {
      const a = b.accessory
      if (isObject(a) && a.type === 'button') this.button(a, `${pointer}/accessory`)
      else if (isObject(a) && a.type === 'image') this.image(a, `${pointer}/accessory`)
      else this.fail(`${pointer}/accessory`, 'this receiver knows button and image accessories')
    }
  }
}

const specialMention = /^!(here|channel|everyone|subteam\^[^|>]+|date\^[^>]+)(\|[^>]*)?$/

/** Links, mentions and unescaped control characters in mrkdwn texts. */
export function readMrkdwn(texts: readonly string[]): MrkdwnFindings {
  const found: MrkdwnFindings = { links: [], mentions: [], unescaped: [] }
  for (const text of texts) {
    const rest = text.replace(/<([^<>\n]*)>/g, (_, inner: string) => {
      if (specialMention.test(inner) || /^[@#][A-Z0-9]+(\|[^>]*)?$/.test(inner))
        found.mentions.push(inner)
      else if (/^(https?|mailto):/.test(inner)) found.links.push(inner.split('|')[0])
      else found.unescaped.push(`<${inner}>`)
      return ''
    })
    // A `>` that starts a line is a quote, mrkdwn's own markup.
    for (const m of rest.replace(/^>/gm, '').matchAll(/[<>]|&(?!(amp|lt|gt);)/g))
      found.unescaped.push(m[0])
  }
  return found
}

/** Validates an incoming webhook's payload as Slack would before posting it. */
export function validateMessage(payload: unknown): Validation {
  const c = new Checker()
  const notes: string[] = []
  const result = (refusal?: SlackRefusal): Validation => ({
    refusal,
    problems: c.problems,
    texts: c.texts,
    mrkdwn: readMrkdwn([...c.texts.mrkdwn]),
    notes
  })
  if (!isObject(payload)) return result('invalid_payload')
  if (payload.text !== undefined) {
    if (typeof payload.text !== 'string') return result('invalid_payload')
    if (payload.text.length > blockKitLimits.messageText)
      notes.push(`text of ${payload.text.length} characters is truncated`)
    // The top-level text is mrkdwn unless `mrkdwn: false`.
    if (payload.mrkdwn !== false) c.texts.mrkdwn.push(payload.text)
  }
  if (payload.blocks === undefined)
    return result(typeof payload.text === 'string' && payload.text !== '' ? undefined : 'no_text')
  if (!Array.isArray(payload.blocks)) return result('invalid_blocks_format')
  if (payload.blocks.length === 0 && !payload.text) return result('no_text')
  if (payload.blocks.length > blockKitLimits.blocksPerMessage)
    c.fail('/blocks', `has ${payload.blocks.length} blocks; at most 50`)
  payload.blocks.forEach((b, i) => c.block(b, `/blocks/${i}`))
  c.texts.header.push(
    ...payload.blocks
      .filter((b): b is Json => isObject(b) && b.type === 'header' && isObject(b.text))
      .map((b) => String((b.text as Json).text))
  )
  return result(c.problems.length > 0 ? 'invalid_blocks' : undefined)
}
