/**
 * The local Slack receiver refuses what Slack documents it refuses, so the notification tests
 * that pass through it can fail: each limit one past its bound, and the same payload at the
 * bound accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { blockKitLimits, readMrkdwn, validateMessage } from '../blocks.js'
import { startSlackReceiver, type SlackReceiver } from '../server.js'

const text = (n: number, type = 'mrkdwn') => ({ type, text: 'x'.repeat(n) })
const section = (n: number) => ({ type: 'section', text: text(n) })
const message = (blocks: unknown[]) => ({ text: 'fallback', blocks })

describe('Block Kit validation', () => {
  const cases: [string, unknown, unknown][] = [
    // name, at the limit (accepted), one past it (refused)
    [
      'blocks per message',
      message(Array.from({ length: 50 }, () => section(1))),
      message(Array.from({ length: 51 }, () => section(1)))
    ],
    [
      'header text',
      message([{ type: 'header', text: text(150, 'plain_text') }]),
      message([{ type: 'header', text: text(151, 'plain_text') }])
    ],
    ['section text', message([section(3000)]), message([section(3001)])],
    [
      'fields per section',
      message([{ type: 'section', fields: Array.from({ length: 10 }, () => text(1)) }]),
      message([{ type: 'section', fields: Array.from({ length: 11 }, () => text(1)) }])
    ],
    [
      'field text',
      message([{ type: 'section', fields: [text(2000)] }]),
      message([{ type: 'section', fields: [text(2001)] }])
    ],
    [
      'context elements',
      message([{ type: 'context', elements: Array.from({ length: 10 }, () => text(1)) }]),
      message([{ type: 'context', elements: Array.from({ length: 11 }, () => text(1)) }])
    ],
    [
      'button text',
      message([
        {
          type: 'actions',
          elements: [{ type: 'button', text: text(75, 'plain_text'), url: 'https://x' }]
        }
      ]),
      message([
        {
          type: 'actions',
          elements: [{ type: 'button', text: text(76, 'plain_text'), url: 'https://x' }]
        }
      ])
    ],
    ['empty text', message([section(1)]), message([section(0)])],
    [
      'a header in mrkdwn',
      message([{ type: 'header', text: text(5, 'plain_text') }]),
      message([{ type: 'header', text: text(5) }])
    ],
    [
      'an unknown field',
      message([{ type: 'divider' }]),
      message([{ type: 'divider', color: 'red' }])
    ],
    [
      'a repeated block_id',
      message([
        { ...section(1), block_id: 'a' },
        { ...section(1), block_id: 'b' }
      ]),
      message([
        { ...section(1), block_id: 'a' },
        { ...section(1), block_id: 'a' }
      ])
    ],
    ['a section without text', message([section(1)]), message([{ type: 'section' }])]
  ]
  it.each(cases)('%s: accepted at the limit, invalid_blocks past it', (_, ok, bad) => {
    expect(validateMessage(ok)).toMatchObject({ refusal: undefined, problems: [] })
    const v = validateMessage(bad)
    expect(v.refusal).toBe('invalid_blocks')
    expect(v.problems).toHaveLength(1)
  })

  it('names the payload errors Slack names', () => {
    expect(validateMessage('not an object').refusal).toBe('invalid_payload')
    expect(validateMessage({}).refusal).toBe('no_text')
    expect(validateMessage({ text: '' }).refusal).toBe('no_text')
    expect(validateMessage({ text: 'x', blocks: {} }).refusal).toBe('invalid_blocks_format')
    expect(validateMessage({ text: 'x'.repeat(blockKitLimits.messageText + 1) }).notes).toEqual([
      'text of 40001 characters is truncated'
    ])
  })

  it('reads links, mentions and unescaped control characters in mrkdwn', () => {
    expect(
      readMrkdwn([
        '<https://ci/run/1|the run> <!channel> <@U123> a &amp; b &lt;c&gt;\n>quoted',
        'a < b',
        'c > d & e',
        'not a link: <foo bar>'
      ])
    ).toEqual({
      links: ['https://ci/run/1'],
      mentions: ['!channel', '@U123'],
      unescaped: ['<', '>', '&', '<foo bar>']
    })
  })
})

describe('the receiver answers like an incoming webhook', () => {
  let slack: SlackReceiver
  beforeAll(async () => {
    slack = await startSlackReceiver()
  })
  afterAll(async () => {
    await slack.close()
  })

  const post = (url: string, body: string, type = 'application/json') =>
    fetch(url, { method: 'POST', headers: { 'content-type': type }, body }).then(async (r) => [
      r.status,
      await r.text(),
      r.headers.get('retry-after')
    ])

  it('200 ok, 400 with the reason, 404 no_service, queued faults, a form-encoded payload', async () => {
    const url = slack.webhookUrl()
    expect(await post(url, JSON.stringify(message([section(10)])))).toEqual([200, 'ok', null])
    expect(await post(url, JSON.stringify(message([section(3001)])))).toEqual([
      400,
      'invalid_blocks',
      null
    ])
    expect(await post(url, '{not json')).toEqual([400, 'invalid_payload', null])
    expect(await post(`${url}x/y`, JSON.stringify({ text: 'hi' }))).toEqual([
      404,
      'no_service',
      null
    ])
    slack.queue({ status: 429, retryAfter: '7' }, { status: 500 })
    expect(await post(url, JSON.stringify({ text: 'hi' }))).toEqual([429, 'rate_limited', '7'])
    expect(await post(url, JSON.stringify({ text: 'hi' }))).toEqual([500, 'rollup_error', null])
    const form = `payload=${encodeURIComponent(JSON.stringify({ text: 'from a form' }))}`
    expect(await post(url, form, 'application/x-www-form-urlencoded')).toEqual([200, 'ok', null])
    expect(slack.accepted().map((d) => d.validation?.texts.mrkdwn[0])).toEqual([
      'fallback',
      'from a form'
    ])
    expect(slack.deliveries.map((d) => d.status)).toEqual([200, 400, 400, 404, 429, 500, 200])
  })
})
