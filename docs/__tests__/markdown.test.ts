/**
 * The README and the pages in docs/ as GitHub shows them:
 * - no `<word>` outside code: GitHub takes it for an HTML tag and drops it, so a generated
 *   `images/<image-name>/<branch>.yaml` would read `images//.yaml` (generators escape it, prose
 *   puts it in a code span);
 * - every page in docs/ can be reached from the README by following links, and every relative
 *   link of those pages leads to a file (and heading) that exists;
 * - the README starts with how to use the actions (a service repository's and a manifests
 *   repository's workflow), before anything about developing kit, and its workflows call the
 *   actions with inputs they declare.
 * Markdown is read with `marked` (GitHub-flavoured, CommonMark's rules for raw HTML).
 */
import { describe, expect, it } from '@jest/globals'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { load } from 'js-yaml'
import { marked, type Token, type Tokens } from 'marked'
import { escapeMarkdownText } from '../../shared/src/text/markdown.js'
import {
  checkWorkflow,
  kitActions,
  readActionMetadata,
  type ActionMetadata,
  type KitAction
} from '../../testinfra/workflows/check-workflows.js'

const root = process.cwd()

/** HTML a page may use on purpose; anything else in a tag's place is text GitHub would drop. */
const allowedTags = new Set(['details', 'summary', 'br', 'sub', 'sup', 'kbd', 'img', 'a', 'p'])

/** Calls `visit` on every token, table cells and list items included. */
function walk(tokens: readonly Token[], visit: (t: Token) => void): void {
  for (const t of tokens) {
    visit(t)
    if (t.type === 'table') {
      const table = t as Tokens.Table
      for (const c of table.header) walk(c.tokens, visit)
      for (const row of table.rows) for (const c of row) walk(c.tokens, visit)
    }
    if (t.type === 'list') for (const item of (t as Tokens.List).items) walk(item.tokens, visit)
    const children = (t as { tokens?: Token[] }).tokens
    if (t.type !== 'list' && Array.isArray(children)) walk(children, visit)
  }
}

const lex = (markdown: string): Token[] => marked.lexer(markdown, { gfm: true })

/** The raw HTML tags of a page that GitHub would drop: `<image-name>`, `<dir>`, ... */
function bareTags(markdown: string): string[] {
  const found: string[] = []
  walk(lex(markdown), (t) => {
    if (t.type !== 'html') return
    for (const m of t.raw.matchAll(/<\/?([A-Za-z][\w-]*)[^>]*>/g)) {
      if (!allowedTags.has(m[1].toLowerCase())) found.push(m[0])
    }
  })
  return found
}

/** Every link and image target of a page. */
function linkTargets(markdown: string): string[] {
  const out: string[] = []
  walk(lex(markdown), (t) => {
    if (t.type === 'link' || t.type === 'image') out.push((t as Tokens.Link).href)
  })
  return out
}

/** Heading anchors as GitHub makes them: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  walk(lex(markdown), (t) => {
    if (t.type !== 'heading') return
    const slug = (t as Tokens.Heading).text
      .replace(/`/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-')
    const n = seen.get(slug) ?? 0
    seen.set(slug, n + 1)
    out.add(n === 0 ? slug : `${slug}-${n}`)
  })
  return out
}

const read = (file: string) => readFileSync(join(root, file), 'utf8')
const docPages = readdirSync(join(root, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => `docs/${f}`)
const exampleReadmes = (readdirSync(join(root, 'examples'), { recursive: true }) as string[])
  .filter((f) => f.endsWith('README.md') && !f.includes('node_modules'))
  .map((f) => `examples/${f}`)

describe('the bare-tag check itself', () => {
  it('finds a placeholder in a table cell, in prose, in a heading and in a list', () => {
    const page = [
      '# Files under <dir>',
      '',
      '| input | description |',
      '| --- | --- |',
      '| `image-file` | Write images/<image-name>/<branch>.yaml |',
      '',
      "Commit author as 'Name <email>'.",
      '',
      '- one per <cluster>'
    ].join('\n')
    expect(bareTags(page)).toEqual(['<dir>', '<image-name>', '<branch>', '<email>', '<cluster>'])
  })

  it('leaves code, escaped brackets, comments, autolinks and intended HTML alone', () => {
    const page = [
      '<!-- action-docs:deployer -->',
      '`images/<image>/<branch>.yaml` and &lt;dir&gt; and \\<cluster>',
      '',
      '```yaml',
      'uses: <org>/kit/deployer@v1',
      '```',
      '',
      '<details><summary>more</summary>',
      '',
      'See <https://example.com/a>.',
      '',
      '</details>'
    ].join('\n')
    expect(bareTags(page)).toEqual([])
  })

  it('escapeMarkdownText escapes outside code spans only, and the result has no bare tag', () => {
    const text = 'Write images/<image-name>/<branch>.yaml, or `kit/bump/<image>` and ``a ` <b>``'
    const escaped = escapeMarkdownText(text)
    expect(escaped).toBe(
      'Write images/&lt;image-name&gt;/&lt;branch&gt;.yaml, or `kit/bump/<image>` and ``a ` <b>``'
    )
    expect(bareTags(`| a |\n| --- |\n| ${escaped} |`)).toEqual([])
    expect(bareTags(`| a |\n| --- |\n| ${text} |`)).toEqual(['<image-name>', '<branch>'])
  })
})

describe('no <word> outside code that GitHub would drop as an HTML tag', () => {
  it.each(['README.md', ...docPages, ...exampleReadmes])('%s', (file) => {
    expect(bareTags(read(file))).toEqual([])
  })
})

describe('links between the README and docs/', () => {
  /** Pages reachable from README.md through relative links to markdown files. */
  function reachable(): Map<string, string[]> {
    const seen = new Map<string, string[]>([['README.md', []]])
    const queue = ['README.md']
    while (queue.length > 0) {
      const page = queue.shift()!
      for (const href of linkTargets(read(page))) {
        if (/^[a-z]+:/i.test(href) || href.startsWith('#')) continue
        const target = relative(root, resolve(root, dirname(page), href.split('#')[0]))
        if (!target.endsWith('.md') || seen.has(target) || !existsSync(join(root, target))) continue
        seen.set(target, [...seen.get(page)!, page])
        queue.push(target)
      }
    }
    return seen
  }

  it('reaches every page in docs/ from the README', () => {
    const pages = reachable()
    expect(docPages.filter((p) => !pages.has(p))).toEqual([])
  })

  it.each(['README.md', ...docPages, ...exampleReadmes])(
    '%s: every relative link leads to a file, and every #anchor to a heading',
    (page) => {
      const broken: string[] = []
      for (const href of linkTargets(read(page))) {
        if (/^[a-z]+:/i.test(href)) continue
        const [path, anchor] = href.split('#')
        const target = path === '' ? page : relative(root, resolve(root, dirname(page), path))
        if (!existsSync(join(root, target))) {
          broken.push(`${href}: no such file`)
          continue
        }
        if (
          anchor &&
          target.endsWith('.md') &&
          statSync(join(root, target)).isFile() &&
          !anchors(read(target)).has(decodeURIComponent(anchor))
        )
          broken.push(`${href}: no heading with that anchor in ${target}`)
      }
      expect(broken).toEqual([])
    }
  )
})

describe('the README opens with how to use the actions', () => {
  const readme = read('README.md')
  const yamlBlocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => ({
    text: m[1],
    at: m.index
  }))
  const workflows = yamlBlocks.filter((b) => /uses: kit-dev\/kit\//.test(b.text))
  const firstContributorStep = readme.search(/^## .*(contributor|development)/im)
  const actions = Object.fromEntries(
    kitActions.map((a) => [a, readActionMetadata(root, a)])
  ) as Record<KitAction, ActionMetadata>

  it('shows a service repository workflow and a manifests repository workflow first', () => {
    const service = workflows.find((w) => /image-deployer@v1/.test(w.text))
    const manifests = workflows.find(
      (w) => /deploymentizer@v1/.test(w.text) && /deployer@v1/.test(w.text)
    )
    expect(service).toBeDefined()
    expect(manifests).toBeDefined()
    expect(firstContributorStep).toBeGreaterThan(0)
    expect(service!.at).toBeLessThan(firstContributorStep)
    expect(manifests!.at).toBeLessThan(firstContributorStep)
    expect(readme.indexOf('npm ci')).toBeGreaterThan(manifests!.at)
  })

  it.each(workflows.map((w, i) => [i + 1, w.text]))(
    'workflow %i is a complete workflow whose kit steps pass only declared inputs',
    (_i, text) => {
      const wf = load(text as string) as { on?: unknown; jobs?: Record<string, unknown> }
      expect(wf.on).toBeDefined()
      expect(Object.keys(wf.jobs ?? {}).length).toBeGreaterThan(0)
      expect(checkWorkflow(text as string, 'README.md', actions)).toEqual([])
    }
  )
})
