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
 * Exit codes: 0 every file rendered; 1 the browser failed; 2 bad usage or an unreadable file.
 *
 * What "as GitHub would" covers: GitHub-flavoured markdown (tables, task lists, strikethrough,
 * autolinks) through `marked`, raw HTML such as <details>/<summary> kept, the tags and
 * attributes GitHub strips (script, style, iframe, event handlers, javascript: URLs) removed,
 * common :emoji: shortcodes replaced, and a stylesheet that imitates GitHub's light theme.
 * It is an approximation for reviewing layout, not a pixel-exact copy.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { clearTimeout, setTimeout } from 'node:timers'
import { basename, extname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { marked } from 'marked'

const usage = `Usage: node scripts/summary-screenshot.mjs [--out dir] [--width px] [--height px]
       [--title text] [--chromium path] [--expand | --expand-outer] [--html-only] <summary.md>...`

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
