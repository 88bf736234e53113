import { describe, expect, it } from '@jest/globals'
import {
  maxSummaryChars,
  renderFailureMarkdown,
  renderSummaryMarkdown,
  skippedServices,
  skipWarnings,
  type ClusterSummary,
  type ImageChoice,
  type RenderRunResult
} from '../../src/render/index.js'

function result(
  clusters: readonly ClusterSummary[],
  extra: Partial<RenderRunResult> = {}
): RenderRunResult {
  return {
    mode: 'write',
    outputDir: '/w/generated',
    indexPath: '/w/generated/index.json',
    clusters,
    disabled: [],
    counts: {
      clusters: clusters.length,
      services: clusters.reduce((n, c) => n + c.services, 0),
      files: clusters.reduce((n, c) => n + c.files, 0),
      skipped: clusters.reduce((n, c) => n + c.skipped.length, 0)
    },
    secrets: [],
    hash: 'sha256:x',
    differences: [],
    ...extra
  }
}

const fromGroup = 'branch main from groups/production.yaml (branch)'

/** An image chosen through an image file for the branch `chosenBy` names. */
function image(service: string, ref: string, chosenBy = fromGroup): ImageChoice {
  return { service, ref, pinned: false, chosenBy }
}

/**
 * A fleet where every cluster runs the same api image (prod-us-1 through a branch its own file
 * sets), and one cluster a pinned worker.
 */
function fleet(): ClusterSummary[] {
  return ['prod-eu-1', 'prod-us-1', 'staging'].map((name) => ({
    name,
    services: 2,
    files: 4,
    images: [
      image(
        'api',
        'ghcr.io/acme/api:main-a1b2c3d',
        name === 'prod-us-1' ? 'branch main from clusters/prod-us-1.yaml (branch)' : fromGroup
      ),
      name === 'staging'
        ? {
            service: 'worker',
            ref: 'ghcr.io/acme/worker:main-1111111',
            pinned: true,
            chosenBy: 'pinned by clusters/staging.yaml (services.worker.image)'
          }
        : image('worker', 'ghcr.io/acme/worker:main-2222222'),
      image('worker/proxy', 'nginx:1.27')
    ],
    templates: [],
    skipped:
      name === 'staging'
        ? []
        : [
            {
              name: 'canary',
              reason: "no image file for acme/canary on branch 'main'",
              warning: true
            }
          ]
  }))
}

const count = (text: string, needle: string): number => text.split(needle).length - 1

describe('deploymentizer step summary', () => {
  const md = renderSummaryMarkdown(result(fleet(), { disabled: ['legacy'] }))

  it('lists each distinct image once, with the clusters that get it and what chose it', () => {
    expect(count(md, 'ghcr.io/acme/api:main-a1b2c3d')).toBe(1)
    expect(md).toContain('| Service | Image | Clusters | Chosen by |')
    expect(md).toContain(
      '| api | `ghcr.io/acme/api:main-a1b2c3d` | all 3 clusters | branch main from groups/production.yaml (branch); branch main from clusters/prod-us-1.yaml (branch) |'
    )
    expect(md).toContain(
      `| worker | \`ghcr.io/acme/worker:main-2222222\` | prod-eu-1, prod-us-1 | ${fromGroup} |`
    )
    expect(md).toContain(
      '| worker | `ghcr.io/acme/worker:main-1111111` (pinned) | staging | pinned by clusters/staging.yaml (services.worker.image) |'
    )
    expect(md).toContain(`| worker/proxy | \`nginx:1.27\` | all 3 clusters | ${fromGroup} |`)
  })

  it('names at most three settings in a cell, then counts the rest', () => {
    const many = ['a', 'b', 'c', 'd', 'e'].map((name) => ({
      name,
      services: 1,
      files: 1,
      images: [image('api', 'r/api:1', `branch main from clusters/${name}.yaml (branch)`)],
      templates: [],
      skipped: []
    }))
    expect(renderSummaryMarkdown(result(many))).toContain(
      '| api | `r/api:1` | all 5 clusters | branch main from clusters/a.yaml (branch); branch main from clusters/b.yaml (branch); branch main from clusters/c.yaml (branch) and 2 more |'
    )
  })

  it('shortens an image digest for reading', () => {
    const digest = `sha256:${'ab12'.repeat(16)}`
    const one = renderSummaryMarkdown(
      result([
        {
          name: 'a',
          services: 1,
          files: 1,
          images: [image('web', `nginx@${digest}`)],
          templates: [],
          skipped: []
        }
      ])
    )
    expect(one).toContain('| web | `nginx@sha256:ab12ab12ab12…` | a |')
  })

  it('has a cluster table with counts only, no image column', () => {
    expect(md).toContain('| Cluster | Services | Files |\n| --- | ---: | ---: |')
    expect(md).toContain('| prod-eu-1 | 2 (1 skipped) | 4 |')
    expect(md).toContain('| staging | 2 | 4 |')
    expect(md).not.toContain('Images |')
  })

  it('lists a skip once per service and reason, with its clusters', () => {
    expect(count(md, 'no image file for acme/canary')).toBe(1)
    expect(md).toContain(
      "| canary | ⚠️ no image file for acme/canary on branch 'main' | prod-eu-1, prod-us-1 |"
    )
    expect(skipWarnings(fleet())).toEqual([
      "service canary skipped on clusters prod-eu-1, prod-us-1: no image file for acme/canary on branch 'main'"
    ])
    expect(skippedServices(fleet())).toHaveLength(1)
  })

  it('has a headline with counts in the right number, and the disabled clusters', () => {
    expect(md.split('\n')[0]).toBe(
      '### ✅ kit deploymentizer: 6 services rendered on 3 clusters (12 files)'
    )
    expect(md).toContain('Disabled (no output): legacy.')
    const one = renderSummaryMarkdown(
      result([{ name: 'solo', services: 1, files: 1, images: [], templates: [], skipped: [] }])
    )
    expect(one.split('\n')[0]).toBe(
      '### ✅ kit deploymentizer: 1 service rendered on 1 cluster (1 file)'
    )
    expect(one).not.toContain('#### Images')
  })

  it('says whether the output is up to date in check mode', () => {
    const stale = renderSummaryMarkdown(
      result(fleet(), { mode: 'check', differences: ['changed a/b.yaml'] })
    )
    expect(stale.split('\n')[0]).toMatch(/^### ❌ kit deploymentizer: .* checked on 3 clusters/)
    expect(stale).toContain('is **not** up to date (1 difference)')
    expect(renderSummaryMarkdown(result(fleet(), { mode: 'check' }))).toContain(
      'The output folder is up to date.'
    )
  })

  it("stays under GitHub's summary size limit for a large fleet", () => {
    const big = Array.from({ length: 1000 }, (_, i) => ({
      name: `cluster-${i}-${'x'.repeat(200)}`,
      services: 200,
      files: 400,
      images: Array.from({ length: 30 }, (_, j) => image(`svc-${j}`, `r/svc-${j}:${i}`)),
      templates: [],
      skipped: []
    }))
    const md = renderSummaryMarkdown(result(big))
    expect(md.length).toBeLessThan(maxSummaryChars + 2000)
    expect(md).toMatch(/\d+ more images not listed here \(summary size limit\)/)
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
    expect(md).toContain('render failed, nothing was written')
    expect(md).toContain("- services/a/d.yaml:4: cluster c, service a: no value 'x' in values")
  })
})
