import { describe, expect, it } from '@jest/globals'
import { dump, load } from 'js-yaml'
import {
  compileTemplate,
  parseTemplateString,
  PlaceholderError,
  renderTemplate,
  type RenderContext
} from '../../src/render/index.js'

function context(overrides: Partial<RenderContext> = {}): RenderContext {
  return {
    values: {
      replicas: 3,
      debug: false,
      ratio: 0.5,
      name: 'api',
      resources: { limits: { memory: '1Gi' } },
      args: ['--a', '--b'],
      motd: 'Welcome: read the #docs\nkind: Secret\n---\nevil: true',
      'dash-key': 'dashed',
      nothing: null
    },
    cluster: { name: 'prod-eu-1', labels: { region: 'eu-west-1' }, groups: ['production', 'eu'] },
    service: { name: 'api', branch: 'main' },
    image: 'ghcr.io/acme/api:main-1',
    images: { proxy: 'ghcr.io/acme/proxy:2' },
    env: { DB_PASSWORD: 's3cret-value', EMPTY: '' },
    secrets: new Set<string>(),
    ...overrides
  }
}

/** Renders one scalar template value. */
function render(template: unknown, ctx = context()): unknown {
  return renderTemplate(
    compileTemplate(template, () => 7),
    ctx
  )
}

describe('placeholders', () => {
  it.each([
    ['a whole-scalar number keeps its type', '${{ values.replicas }}', 3],
    ['a whole-scalar boolean keeps its type', '${{ values.debug }}', false],
    ['a whole-scalar float keeps its type', '${{values.ratio}}', 0.5],
    ['a whole-scalar map keeps its type', '${{ values.resources }}', { limits: { memory: '1Gi' } }],
    ['a whole-scalar list keeps its type', '${{ values.args }}', ['--a', '--b']],
    ['a whole-scalar null stays null', '${{ values.nothing }}', null],
    ['an embedded string interpolates', 'name=${{ values.name }}', 'name=api'],
    ['an embedded number stringifies', 'x${{ values.replicas }}', 'x3'],
    ['an embedded boolean stringifies', '${{ values.debug }}!', 'false!'],
    ['two placeholders in one string', '${{ cluster.name }}/${{ service.name }}', 'prod-eu-1/api'],
    ['a list index', '${{ values.args[1] }}', '--b'],
    ['a quoted key', "${{ values['dash-key'] }}", 'dashed'],
    ['a dashed key', '${{ values.dash-key }}', 'dashed'],
    ['cluster labels', 'db.${{ cluster.labels.region }}.internal', 'db.eu-west-1.internal'],
    ['cluster groups', '${{ cluster.groups }}', ['production', 'eu']],
    ['the image', '${{ image }}', 'ghcr.io/acme/api:main-1'],
    ['a named image', '${{ images.proxy }}', 'ghcr.io/acme/proxy:2'],
    ['the escape writes a literal ${{', 'run: $${{ github.sha }}', 'run: ${{ github.sha }}'],
    ['an escape next to a placeholder', '$${{ x }} ${{ values.name }}', '${{ x }} api'],
    ['| string turns a number into a string', '${{ values.replicas | string }}', '3'],
    ['| base64 encodes', '${{ values.name | base64 }}', 'YXBp'],
    ['| json writes compact JSON', '${{ values.resources | json }}', '{"limits":{"memory":"1Gi"}}'],
    [
      'a string without placeholders is untouched',
      'plain ${ text } {{ x }}',
      'plain ${ text } {{ x }}'
    ]
  ])('%s', (_rule, template, want) => {
    expect(render(template)).toEqual(want)
  })

  it('keeps a value with a colon, a hash, newlines and --- inside one scalar (no injection)', () => {
    const object = render({ data: { motd: '${{ values.motd }}' } })
    const reparsed = load(dump(object)) as { data: Record<string, unknown> }
    expect(Object.keys(reparsed.data)).toEqual(['motd'])
    expect(reparsed.data.motd).toBe('Welcome: read the #docs\nkind: Secret\n---\nevil: true')
    expect(reparsed).not.toHaveProperty('kind')
    expect(reparsed).not.toHaveProperty('evil')
  })

  it.each([
    [
      'a missing key names the key and what exists',
      '${{ values.replica }}',
      "no value 'replica' in values (it has: replicas, debug"
    ],
    [
      'a missing nested key',
      '${{ values.resources.requests.cpu }}',
      "no value 'requests' in values.resources (it has: limits)"
    ],
    [
      'an index past the end',
      '${{ values.args[5] }}',
      'no value at [5] in values.args (the list has 2 items)'
    ],
    ['a path through a scalar', '${{ values.name.first }}', 'values.name is a string, not a map'],
    ['an unset environment variable', '${{ env.NOPE }}', 'environment variable NOPE is not set'],
    [
      'an empty environment variable (a missing GitHub secret)',
      '${{ env.EMPTY }}',
      'environment variable EMPTY is empty'
    ],
    ['an empty environment variable, encoded', '${{ env.EMPTY | base64 }}', 'add | allow-empty'],
    ['an empty environment variable, embedded', 'p=${{ env.EMPTY }}', 'EMPTY is empty'],
    [
      'an unset variable even with allow-empty',
      '${{ env.NOPE | allow-empty }}',
      'environment variable NOPE is not set'
    ],
    ['a map embedded in a string', 'x: ${{ values.resources }}', 'is a map inside a longer string'],
    ['a list embedded in a string', 'x ${{ values.args }}', 'is a list inside a longer string'],
    ['a null embedded in a string', 'x ${{ values.nothing }}', 'is null inside a longer string'],
    ['base64 of a map', '${{ values.resources | base64 }}', 'base64 needs a scalar, got a map'],
    ['no image source', '${{ image }}', 'the service names no image source']
  ])('errors: %s', (_rule, template, message) => {
    const ctx = context({ image: undefined })
    let caught: unknown
    try {
      render(template, ctx)
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(PlaceholderError)
    expect((caught as PlaceholderError).message).toContain(message)
    expect((caught as PlaceholderError).line).toBe(7)
  })

  it.each([
    ['an unknown context', '${{ vals.x }}', "starts with unknown 'vals'"],
    ['an unknown filter', '${{ values.x | upper }}', "unknown filter 'upper'"],
    ['an unterminated placeholder', 'a ${{ values.x', 'unterminated placeholder'],
    ['an empty placeholder', '${{ }}', 'empty placeholder'],
    ['a bad path', '${{ values..x }}', 'invalid path'],
    ['image with a path', '${{ image.tag }}', 'image is a reference string'],
    ['env without a name', '${{ env }}', 'write env.<name>'],
    [
      'allow-empty on values',
      '${{ values.x | allow-empty }}',
      'allow-empty applies to env.<NAME> only'
    ]
  ])('refuses %s when compiling', (_rule, template, message) => {
    expect(() => compileTemplate(template, () => 3)).toThrow(message)
  })

  it('refuses placeholders in map keys, with the line', () => {
    let caught: unknown
    try {
      compileTemplate({ metadata: { '${{ values.key }}': 'x' } }, (path) => path.length)
    } catch (err) {
      caught = err
    }
    expect((caught as PlaceholderError).message).toContain('not allowed in keys')
    expect((caught as PlaceholderError).line).toBe(2)
  })

  it('records every env value used, and its encoded form, as a secret', () => {
    const ctx = context()
    expect(
      render({ a: '${{ env.DB_PASSWORD | base64 }}', b: 'p=${{ env.DB_PASSWORD }}' }, ctx)
    ).toEqual({
      a: Buffer.from('s3cret-value').toString('base64'),
      b: 'p=s3cret-value'
    })
    expect([...ctx.secrets].sort()).toEqual(
      [Buffer.from('s3cret-value').toString('base64'), 's3cret-value'].sort()
    )
  })

  it('renders an empty env value only when the template says allow-empty', () => {
    const ctx = context()
    expect(
      render(
        {
          a: '${{ env.EMPTY | allow-empty }}',
          b: '${{ env.EMPTY | allow-empty | base64 }}',
          c: 'x=${{ env.EMPTY | allow-empty }};',
          d: '${{ env.DB_PASSWORD | allow-empty }}'
        },
        ctx
      )
    ).toEqual({ a: '', b: '', c: 'x=;', d: 's3cret-value' })
  })

  it('shares subtrees without placeholders instead of copying them', () => {
    const template = { literal: { deep: [1, 2] }, live: '${{ values.name }}' }
    const compiled = compileTemplate(template, () => 1)
    const a = renderTemplate(compiled, context()) as Record<string, unknown>
    expect(a.literal).toBe(template.literal)
    expect(a.live).toBe('api')
  })

  it('parses strings without placeholders to undefined (the fast path)', () => {
    expect(parseTemplateString('no placeholders here')).toBeUndefined()
  })
})

describe('every failing placeholder of a template', () => {
  const template = {
    a: '${{ values.missing }}',
    b: ['ok ${{ values.name }}', 'x ${{ env.NOT_SET }} ${{ values.resources }}'],
    c: { d: '${{ env.EMPTY }}', e: '${{ values.replicas }}' }
  }
  const lines = { a: 2, b: 4, c: 6 }
  const compiled = compileTemplate(template, (path) => lines[path[0] as keyof typeof lines])

  it('is collected, in document order, each with its line, when a list is passed', () => {
    const errors: PlaceholderError[] = []
    const out = renderTemplate(compiled, context(), errors) as Record<string, unknown>
    expect(errors.map((e) => [e.line, e.message.slice(0, 30)])).toEqual([
      [2, "'values.missing': no value 'mi"],
      [4, "'env.NOT_SET': environment var"],
      [4, "'values.resources' is a map in"],
      [6, "'env.EMPTY': environment varia"]
    ])
    // What did render is rendered; what failed is null.
    expect(out).toEqual({ a: null, b: ['ok api', null], c: { d: null, e: 3 } })
  })

  it('throws the first without a list', () => {
    expect(() => renderTemplate(compiled, context())).toThrow("'values.missing'")
  })
})
