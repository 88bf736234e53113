#!/usr/bin/env node
/**
 * Renders job summaries (the markdown the actions append to GITHUB_STEP_SUMMARY) to HTML the
 * way GitHub shows them on a run's summary page, and takes a headless Chromium screenshot of
 * each, so a person can judge how a summary reads without pushing to GitHub.
 *
 *   node scripts/summary-screenshot.mjs [options] <summary.md>...
 *
 * Options:
 *   --out <dir>        where the .html and .png files go (default: summary-screenshots/)
 *   --width <px>       browser window width (default 1200)
 *   --height <px>      browser window height, i.e. how much of the page the PNG shows (default 1600)
 *   --title <text>     the job name shown above each summary (default: the file name)
 *   --chromium <path>  the browser (default: $CHROMIUM or /usr/bin/chromium)
 *   --expand           open every <details> section (GitHub shows them closed; this shows
 *                      what a reader sees after clicking them all)
 *   --expand-outer     open only the outermost <details> sections (what a reader sees after
 *                      clicking each section once, nested previews still closed)
 *   --html-only        write the HTML, take no screenshot (no browser needed)
 *
 *   node scripts/summary-screenshot.mjs --docs [--check] [--chromium path] [--images dir]
 *
 * --docs remakes the pictures of docs/deployer.md from the current code: the summaries of
 * scripts/summary-examples.ts (a real render of examples/manifests-repo, and deploy summaries
 * from the fleet runner and the diff and summary renderers over fixed cluster answers) are
 * written to docs/images/<name>.md, and each is screenshot to docs/images/<name>.png. Each PNG
 * records the sha256 of the page it shows (a tEXt chunk `kit-summary-source`).
 * --docs --check writes nothing: it makes the summaries again and fails when a docs/images
 * markdown file differs, or a PNG was made from another page (stale, or edited by hand). Pixels
 * are not compared (they depend on the fonts and the browser build); the text they are made
 * from is, and each image is tied to it. --images <dir> reads (or writes) another folder than
 * docs/images.
 *
 * Exit codes: 0 every file rendered (or, with --check, current); 1 the browser failed, or
 * --check found a stale file; 2 bad usage or an unreadable file.
 *
 * What "as GitHub would" covers: GitHub-flavoured markdown (tables, task lists, strikethrough,
 * autolinks) through `marked`, raw HTML such as <details>/<summary> kept, the tags and
 * attributes GitHub strips (script, style, iframe, event handlers, javascript: URLs) removed,
 * common :emoji: shortcodes replaced, and a stylesheet that imitates GitHub's light theme.
 * It is an approximation for reviewing layout, not a pixel-exact copy.
 */
import { Buffer } from 'node:buffer'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { clearTimeout, setTimeout } from 'node:timers'
import { basename, dirname, extname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { crc32 } from 'node:zlib'
import { importTs } from './ts-module.mjs'
import { marked } from 'marked'

const usage = `Usage: node scripts/summary-screenshot.mjs [--out dir] [--width px] [--height px]
       [--title text] [--chromium path] [--expand | --expand-outer] [--html-only] <summary.md>...
       node scripts/summary-screenshot.mjs --docs [--check] [--html-only] [--chromium path]
       [--images dir]`

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** A few shortcodes GitHub renders as emoji; unknown ones stay as text, as on GitHub. */
const emoji = {
  white_check_mark: '✅',
  heavy_check_mark: '✔️',
  x: '❌',
  warning: '⚠️',
  no_entry: '⛔',
  no_entry_sign: '🚫',
  leftwards_arrow_with_hook: '↩️',
  rewind: '⏪',
  hourglass: '⌛',
  hourglass_flowing_sand: '⏳',
  fast_forward: '⏩',
  arrow_right: '➡️',
  heavy_minus_sign: '➖',
  information_source: 'ℹ️',
  red_circle: '🔴',
  green_circle: '🟢',
  yellow_circle: '🟡',
  white_circle: '⚪',
  large_blue_circle: '🔵',
  rocket: '🚀',
  mag: '🔍',
  package: '📦',
  lock: '🔒',
  zzz: '💤',
  skull: '💀',
  fire: '🔥',
  construction: '🚧',
  recycle: '♻️',
  bell: '🔔'
}

/** Removes what GitHub's sanitiser removes from summaries (enough for a faithful layout check). */
export function sanitize(html) {
  return html
    .replace(
      /<(script|style|iframe|object|embed|form|textarea|select|button)\b[\s\S]*?<\/\1\s*>/gi,
      ''
    )
    .replace(
      /<\/?(script|style|iframe|object|embed|form|input|textarea|select|button|link|meta|base)\b[^>]*>/gi,
      ''
    )
    .replace(/\s+on[a-z]+\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi, '')
    .replace(/\s+(href|src)\s*=\s*("|')\s*(javascript|vbscript|data):[^"']*\2/gi, '')
    .replace(/\s+style\s*=\s*("[^"]*"|'[^']*')/gi, '')
}

/** Replaces known :shortcodes: outside code spans and blocks. */
export function replaceEmoji(html) {
  return html
    .split(/(<pre[\s\S]*?<\/pre>|<code[\s\S]*?<\/code>)/i)
    .map((part, i) =>
      i % 2 === 1 ? part : part.replace(/:([a-z0-9_+-]+):/g, (m, name) => emoji[name] ?? m)
    )
    .join('')
}

/** Opens the <details> elements at nesting depth 0 only. */
function openOuterDetails(html) {
  let depth = 0
  return html.replace(/<(\/?)details\b([^>]*)>/gi, (tag, closing, attrs) => {
    if (closing) {
      depth = Math.max(0, depth - 1)
      return tag
    }
    depth++
    return depth === 1 && !/\bopen\b/i.test(attrs) ? `<details open${attrs}>` : tag
  })
}

/**
 * The markdown as GitHub would show it: GFM, sanitised, emoji; `expand` opens every <details>,
 * `expandOuter` only the outermost ones.
 */
export function renderMarkdown(markdown, { expand = false, expandOuter = false } = {}) {
  const html = replaceEmoji(
    sanitize(marked.parse(markdown, { gfm: true, breaks: false, async: false }))
  )
  if (expand) return html.replace(/<details(?![^>]*\bopen\b)/gi, '<details open')
  return expandOuter ? openOuterDetails(html) : html
}

const escapeHtml = (s) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]
  )

/** GitHub's light theme, reduced to what summaries use. */
const css = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f8fa; color: #1f2328;
  font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif,
    "Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji";
  font-size: 14px; line-height: 1.5; }
.page { max-width: 1012px; margin: 24px auto; }
.card { background: #fff; border: 1px solid #d1d9e0; border-radius: 6px; }
.card > header { padding: 16px 24px; border-bottom: 1px solid #d1d9e0; font-weight: 600; font-size: 16px; }
.card > header small { color: #59636e; font-weight: 400; margin-left: 8px; font-size: 12px; }
.markdown-body { padding: 24px 32px; font-size: 16px; word-wrap: break-word; }
.markdown-body > *:first-child { margin-top: 0 !important; }
.markdown-body > *:last-child { margin-bottom: 0 !important; }
.markdown-body h1, .markdown-body h2, .markdown-body h3, .markdown-body h4 {
  margin-top: 24px; margin-bottom: 16px; font-weight: 600; line-height: 1.25; }
.markdown-body h1 { font-size: 2em; padding-bottom: .3em; border-bottom: 1px solid #d1d9e0b3; }
.markdown-body h2 { font-size: 1.5em; padding-bottom: .3em; border-bottom: 1px solid #d1d9e0b3; }
.markdown-body h3 { font-size: 1.25em; }
.markdown-body h4 { font-size: 1em; }
.markdown-body p, .markdown-body ul, .markdown-body ol, .markdown-body table, .markdown-body pre,
.markdown-body blockquote, .markdown-body details { margin-top: 0; margin-bottom: 16px; }
.markdown-body ul, .markdown-body ol { padding-left: 2em; }
.markdown-body a { color: #0969da; text-decoration: none; }
.markdown-body code { padding: .2em .4em; margin: 0; font-size: 85%; white-space: break-spaces;
  background: #818b981f; border-radius: 6px;
  font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace; }
.markdown-body pre { padding: 16px; overflow: auto; font-size: 85%; line-height: 1.45; background: #f6f8fa;
  border-radius: 6px; }
.markdown-body pre code { padding: 0; background: transparent; white-space: pre; font-size: 100%; }
.markdown-body table { border-spacing: 0; border-collapse: collapse; display: block; width: max-content;
  max-width: 100%; overflow: auto; }
.markdown-body table th, .markdown-body table td { padding: 6px 13px; border: 1px solid #d1d9e0; }
.markdown-body table th { font-weight: 600; }
.markdown-body table tr { background: #fff; border-top: 1px solid #d1d9e0b3; }
.markdown-body table tr:nth-child(2n) { background: #f6f8fa; }
.markdown-body blockquote { padding: 0 1em; color: #59636e; border-left: .25em solid #d1d9e0; }
.markdown-body details summary { cursor: pointer; display: list-item; }
.markdown-body hr { height: .25em; padding: 0; margin: 24px 0; background: #d1d9e0; border: 0; }
.markdown-body del { color: #59636e; }
`

/** A full HTML page: the summary inside a card headed by the job's name, as on a run page. */
export function summaryPage(markdown, title, options = {}) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>${css}</style></head>
<body><div class="page"><section class="card">
<header>${escapeHtml(title)}<small>summary</small></header>
<article class="markdown-body">
${renderMarkdown(markdown, options)}
</article></section></div></body></html>
`
}

/** Runs Chromium headless on one HTML file; resolves when the PNG is written. */
function screenshot(chromium, htmlFile, pngFile, width, height) {
  const profile = mkdtempSync(join(tmpdir(), 'kit-summary-chromium-'))
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--hide-scrollbars',
    `--user-data-dir=${profile}`,
    `--screenshot=${pngFile}`,
    `--window-size=${width},${height}`,
    pathToFileURL(htmlFile).href
  ]
  return new Promise((done, fail) => {
    rmSync(pngFile, { force: true })
    // Its own process group, so a hung browser and its helpers are ended together.
    const child = spawn(chromium, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)))
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }, 180_000)
    child.on('error', (e) => {
      clearTimeout(timer)
      rmSync(profile, { recursive: true, force: true })
      fail(new Error(`cannot start ${chromium}: ${e.message}`))
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      rmSync(profile, { recursive: true, force: true })
      let size = 0
      try {
        size = statSync(pngFile).size
      } catch {
        // no file
      }
      if (size > 0) done()
      else {
        fail(
          new Error(
            `${chromium} wrote no screenshot (exit ${code ?? signal}):\n${stderr.trim().split('\n').slice(-5).join('\n')}`
          )
        )
      }
    })
  })
}

/** The PNG's text chunk that names the page it shows. */
const sourceKey = 'kit-summary-source'

/** The PNG's chunks: `{ type, data }` in file order. */
function pngChunks(png) {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  if (!png.subarray(0, 8).equals(signature)) throw new Error('not a PNG file')
  const chunks = []
  for (let at = 8; at + 12 <= png.length;) {
    const length = png.readUInt32BE(at)
    chunks.push({
      type: png.toString('latin1', at + 4, at + 8),
      data: png.subarray(at + 8, at + 8 + length)
    })
    at += 12 + length
  }
  return chunks
}

/** `png` with a tEXt chunk `key`=`value` before its end. */
export function withPngText(png, key, value) {
  const data = Buffer.from(`${key}\0${value}`, 'latin1')
  const chunk = Buffer.alloc(12 + data.length)
  chunk.writeUInt32BE(data.length, 0)
  chunk.write('tEXt', 4, 'latin1')
  data.copy(chunk, 8)
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length)
  const end = png.length - 12 // IEND: the last chunk, 12 bytes
  if (png.toString('latin1', end + 4, end + 8) !== 'IEND')
    throw new Error('PNG does not end in IEND')
  return Buffer.concat([png.subarray(0, end), chunk, png.subarray(end)])
}

/** The value of the PNG's tEXt chunk `key`, if it has one. */
export function pngText(png, key) {
  for (const { type, data } of pngChunks(png)) {
    if (type !== 'tEXt') continue
    const text = data.toString('latin1')
    if (text.startsWith(`${key}\0`)) return text.slice(key.length + 1)
  }
  return undefined
}

/** What a docs picture is made from: the page and the window it is shown in. */
function sourceHash(page, width, height) {
  return createHash('sha256').update(`${width}x${height}\n${page}`).digest('hex')
}

/** The docs summaries, made by the current code (scripts/summary-examples.ts, bundled). */
async function docsSummaries() {
  const { docsSummaries: make } = await importTs(join(root, 'scripts', 'summary-examples.ts'))
  return (await make(root)).map((s) => ({
    ...s,
    page: summaryPage(s.markdown, s.title, { expand: s.expand, expandOuter: s.expandOuter })
  }))
}

/** Why `docsImages` does not hold what the current code makes (empty when it does). */
function staleDocsImages(summaries, docsImages) {
  const problems = []
  const wanted = new Set(summaries.flatMap((s) => [`${s.name}.md`, `${s.name}.png`]))
  for (const f of existsSync(docsImages) ? readdirSync(docsImages) : [])
    if (!wanted.has(f)) problems.push(`${f}: not made by --docs (remove it)`)
  for (const s of summaries) {
    const md = join(docsImages, `${s.name}.md`)
    const png = join(docsImages, `${s.name}.png`)
    if (!existsSync(md) || readFileSync(md, 'utf8') !== s.markdown)
      problems.push(`${s.name}.md: not the summary the current code makes`)
    let recorded
    try {
      recorded = pngText(readFileSync(png), sourceKey)
    } catch (e) {
      problems.push(`${s.name}.png: ${e.code === 'ENOENT' ? 'missing' : e.message}`)
      continue
    }
    if (recorded !== sourceHash(s.page, s.width, s.height))
      problems.push(`${s.name}.png: made from another page than the current one`)
  }
  return problems
}

/** --docs: writes docs/images/<name>.md and .png; with --check, compares instead. */
async function docsMode({ check, htmlOnly, chromium, docsImages }) {
  const summaries = await docsSummaries()
  if (check) {
    const problems = staleDocsImages(summaries, docsImages)
    const shown = relative(process.cwd(), docsImages) || '.'
    for (const p of problems) console.error(`${join(shown, p)}`)
    if (problems.length > 0) {
      console.error(
        `${shown} is stale: run node scripts/summary-screenshot.mjs --docs (needs Chromium)`
      )
      return 1
    }
    console.log(`${shown}: ${summaries.length} summaries and pictures match the current code`)
    return 0
  }
  mkdirSync(docsImages, { recursive: true })
  const work = mkdtempSync(join(tmpdir(), 'kit-docs-pages-'))
  try {
    for (const s of summaries) {
      writeFileSync(join(docsImages, `${s.name}.md`), s.markdown)
      if (htmlOnly) continue
      const html = join(work, `${s.name}.html`)
      const png = join(work, `${s.name}.png`)
      writeFileSync(html, s.page)
      await screenshot(chromium, html, png, s.width, s.height)
      const tagged = withPngText(
        readFileSync(png),
        sourceKey,
        sourceHash(s.page, s.width, s.height)
      )
      writeFileSync(join(docsImages, `${s.name}.png`), tagged)
      console.log(join(relative(process.cwd(), docsImages), `${s.name}.png`))
    }
  } catch (e) {
    console.error(e.message)
    return 1
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  return 0
}

async function main(argv) {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: 'string', default: 'summary-screenshots' },
        width: { type: 'string', default: '1200' },
        height: { type: 'string', default: '1600' },
        title: { type: 'string' },
        chromium: { type: 'string', default: process.env.CHROMIUM ?? '/usr/bin/chromium' },
        expand: { type: 'boolean', default: false },
        'expand-outer': { type: 'boolean', default: false },
        'html-only': { type: 'boolean', default: false },
        docs: { type: 'boolean', default: false },
        check: { type: 'boolean', default: false },
        images: { type: 'string', default: join(root, 'docs', 'images') },
        help: { type: 'boolean', short: 'h', default: false }
      }
    })
  } catch (e) {
    console.error(`${e.message}\n${usage}`)
    return 2
  }
  const { values, positionals } = parsed
  if (values.help) {
    console.log(usage)
    return 0
  }
  if (values.check && !values.docs) {
    console.error(`--check goes with --docs\n${usage}`)
    return 2
  }
  if (values.docs) {
    if (positionals.length > 0) {
      console.error(`--docs takes no files: it makes its own summaries\n${usage}`)
      return 2
    }
    return docsMode({
      check: values.check,
      htmlOnly: values['html-only'],
      chromium: values.chromium,
      docsImages: resolve(values.images)
    })
  }
  const width = Number(values.width)
  const height = Number(values.height)
  if (
    positionals.length === 0 ||
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    width < 200 ||
    height < 200
  ) {
    console.error(
      `give at least one markdown file; --width and --height are whole numbers ≥ 200\n${usage}`
    )
    return 2
  }
  const outDir = resolve(values.out)
  mkdirSync(outDir, { recursive: true })
  let status = 0
  for (const file of positionals) {
    let markdown
    try {
      markdown = readFileSync(file, 'utf8')
    } catch (e) {
      console.error(`${file}: cannot read: ${e.message}`)
      return 2
    }
    const name = basename(file, extname(file))
    const htmlFile = join(outDir, `${name}.html`)
    writeFileSync(
      htmlFile,
      summaryPage(markdown, values.title ?? name, {
        expand: values.expand,
        expandOuter: values['expand-outer']
      })
    )
    if (values['html-only']) {
      console.log(htmlFile)
      continue
    }
    const pngFile = join(outDir, `${name}.png`)
    try {
      await screenshot(values.chromium, htmlFile, pngFile, width, height)
      console.log(pngFile)
    } catch (e) {
      console.error(`${file}: ${e.message}`)
      status = 1
    }
  }
  return status
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2))
}
