import { describe, expect, it } from '@jest/globals'
import {
  maxSummaryChars,
  renderFailureMarkdown,
  renderSummaryMarkdown,
  type RenderRunResult
} from '../../src/render/index.js'

function result(clusters: number, imagesPerCluster: number): RenderRunResult {
  return {
    mode: 'write',
    outputDir: '/w/generated',
    indexPath: '/w/generated/index.json',
    clusters: Array.from({ length: clusters }, (_, i) => ({
      name: `c${i}`,
      services: imagesPerCluster,
      files: imagesPerCluster * 2,
      images: Array.from({ length: imagesPerCluster }, (_, j) => `svc-${j}: \`r/svc-${j}:main-1\``),
      skipped:
        i === 0 ? [{ name: 'canary', reason: 'disabled by groups/prod.yaml', warning: false }] : []
    })),
    disabled: ['old'],
    counts: { clusters, services: clusters * imagesPerCluster, files: 0, skipped: 1 },
    secrets: [],
    hash: 'sha256:x',
    differences: []
  }
}

describe('step summary', () => {
  it('has one row per cluster with services, skipped and images', () => {
    const md = renderSummaryMarkdown(result(2, 2))
    expect(md).toContain('disabled clusters: old')
    expect(md).toContain(
      '| c0 | 2 | canary (disabled by groups/prod.yaml) | svc-0: `r/svc-0:main-1`<br>svc-1: `r/svc-1:main-1` |'
    )
    expect(md).toContain('| c1 | 2 | – |')
  })

  it("stays under GitHub's summary size limit for a large fleet", () => {
    const md = renderSummaryMarkdown(result(300, 200))
    expect(md.length).toBeLessThan(maxSummaryChars + 1000)
    expect(md).toMatch(/\d+ more clusters are not listed here/)
  })

  it('lists every problem of a failed render with file, line, cluster and service', () => {
    const md = renderFailureMarkdown([
      {
        message: "no value 'x' in values",
        file: 'services/a/d.yaml',
        line: 4,
        cluster: 'c',
        service: 'a'
      }
    ])
    expect(md).toContain("- services/a/d.yaml:4: cluster c, service a: no value 'x' in values")
  })
})
