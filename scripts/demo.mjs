// The main job, end to end on this machine, through the shipped action bundles:
//
//   1. start three real local clusters (staging-us, prod-eu, prod-us)
//   2. serve the example manifests repository from a local git smart-HTTP server (token auth)
//   3. image-deployer records a new image of `web` in it (a commit, over git)
//   4. deploymentizer renders every cluster's manifests from a fresh checkout
//   5. deployer applies them in waves (staging, then production), waits, prints the summary
//   6. then the same with a broken image: the staging wave fails, is rolled back to the
//      previous version with the pod's reason, and production is never touched
//
// Each action runs as the GitHub runner runs it: node <action>/dist/index.js with INPUT_*
// variables, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files. The terminal gets what the runner's
// log shows with its groups folded (each cluster's progress once, then its result line), and
// the head of each step summary (the headline, the table, each failure); the full summaries,
// with every change, are written to files outside the repository, named at the end.
//
//   npm run demo              (add -- --keep to leave the clusters running afterwards)
import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { randomBytes } from 'node:crypto'
import { importTs } from '../testinfra/jest/load-ts.mjs'

const root = process.cwd()
const keep = process.argv.includes('--keep')
const tty = process.stdout.isTTY && !process.env.CI && !process.env.NO_COLOR
const c = (code) => (s) => (tty ? `\u001b[${code}m${s}\u001b[0m` : s)
const bold = c(1)
const dim = c(2)
const green = c(32)
const red = c(31)

const clusterNames = ['staging-us', 'prod-eu', 'prod-us']
let step = 0
const steps = 9
const started = Date.now()
function heading(text) {
  step++
  const t = ((Date.now() - started) / 1000).toFixed(0).padStart(3)
  console.log(`\n${bold(`[${step}/${steps}]`)} ${bold(text)} ${dim(`(+${t}s)`)}`)
}
const indent = (text) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n')

function filesOf(dir) {
  const out = {}
  for (const entry of readdirSync(dir, { recursive: true })) {
    const full = join(dir, entry)
    if (statSync(full).isFile()) out[relative(dir, full)] = readFileSync(full, 'utf8')
  }
  return out
}

/** A step summary up to its sections of changes and deletions: headline, table, failures. */
function summaryHead(summary) {
  const lines = summary.trimEnd().split('\n')
  const end = lines.findIndex((l) =>
    /^#### What (changed|would change|was deleted|would be deleted)/.test(l)
  )
  return (end < 0 ? lines : lines.slice(0, end)).join('\n')
}

/** The message of a workflow command (`::error ...::message`), unescaped as the runner does. */
const unescapeCommand = (text) =>
  text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')

function git(cwd, ...args) {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe']
  }).trim()
}

const { runAction } = await importTs('testinfra/runner/run-action.ts')
const { startGitServer } = await importTs('testinfra/git-server/server.ts')

heading('Local clusters: real kube-apiserver, controller-manager, scheduler and kwok per cluster')
execFileSync(
  process.execPath,
  ['bench/run-ts.mjs', 'testinfra/clusters/cli.ts', 'up', '--names', clusterNames.join(',')],
  { stdio: 'inherit' }
)
const { readClusterSet, downClusters } = await importTs('testinfra/clusters/local-clusters.ts')
const set = readClusterSet()
const kubeconfig = readFileSync(set.kubeconfigPath, 'utf8')

const work = mkdtempSync(join(tmpdir(), 'kit-demo-'))
// Kept after the demo (work is removed): the full step summaries.
const summaries = mkdtempSync(join(tmpdir(), 'kit-demo-summaries-'))
const token = randomBytes(20).toString('hex')
const server = await startGitServer({ token })
let exitCode = 0
try {
  heading('Manifests repository served over smart HTTP (examples/manifests-repo)')
  const repoUrl = await server.createRepo('manifests', [
    {
      files: filesOf(join(root, 'examples', 'manifests-repo')),
      message: 'Manifests for web, api and worker'
    }
  ])
  console.log(
    indent(
      `${repoUrl}  (token auth; ${Object.keys(filesOf(join(root, 'examples', 'manifests-repo'))).length} files)`
    )
  )

  // The service repository's workflow: a build of acme/web finished, record its image.
  const serviceContext = (sha) => ({
    GITHUB_REPOSITORY: 'acme/web',
    GITHUB_SHA: sha,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: String(Date.now()),
    GITHUB_WORKSPACE: work
  })
  // A step's log as the runner's page shows it with its groups folded: a group's title (the
  // deployer's result line for a cluster), not its body (that cluster's lines again, which
  // were shown live). Annotations read as what they are.
  let inGroup = false
  const show = (line) => {
    if (/^::(debug|add-mask|set-output)/.test(line)) return
    if (line.startsWith('::group::')) {
      inGroup = true
      return console.log(`    ${line.slice('::group::'.length)}`)
    }
    if (line.startsWith('::endgroup::')) {
      inGroup = false
      return
    }
    if (inGroup) return
    const annotation = /^::(error|warning|notice)[^:]*::(.*)$/.exec(line)
    if (annotation)
      return console.log(dim(`    ${annotation[1]} annotation: ${unescapeCommand(annotation[2])}`))
    console.log(`    ${line}`)
  }

  async function bump(image, sha) {
    const run = await runAction(root, 'image-deployer', {
      inputs: {
        repository: repoUrl,
        token,
        image,
        'image-name': 'web',
        branch: 'main',
        'target-branch': 'main',
        transport: 'git'
      },
      env: serviceContext(sha),
      onLine: show
    })
    if (run.exitCode !== 0) throw new Error(`image-deployer failed (exit ${run.exitCode})`)
    console.log(
      indent(
        `${green('✓')} commit ${run.outputs['commit-sha']?.slice(0, 12)} changed=${run.outputs.changed} files=${run.outputs.files}`
      )
    )
    return run
  }

  // The manifests repository's workflow: a fresh checkout, render, deploy.
  async function renderAndDeploy(label) {
    const checkout = join(work, `checkout-${step}`)
    // Asynchronously: the git server answers from this same process's event loop.
    await promisify(execFile)('git', [
      '-c',
      `http.extraHeader=Authorization: Bearer ${token}`,
      'clone',
      '-q',
      repoUrl,
      checkout
    ])
    const commit = git(checkout, 'rev-parse', 'HEAD')
    const commitTime = git(checkout, 'log', '-1', '--format=%cI')
    heading(`deploymentizer: render every cluster (${label})`)
    const render = await runAction(root, 'deploymentizer', {
      inputs: { path: '.' },
      // The api Secret takes its database URL from the build environment (a GitHub secret in CI).
      env: {
        GITHUB_WORKSPACE: checkout,
        API_DATABASE_URL: 'postgres://demo:demo-password@db.shop.svc/shop'
      },
      cwd: checkout,
      onLine: show
    })
    if (render.exitCode !== 0) throw new Error(`deploymentizer failed (exit ${render.exitCode})`)
    console.log(indent(`${green('✓')} clusters ${render.outputs.clusters}`))
    heading(`deployer: apply in waves staging → production, wait, roll back on failure (${label})`)
    const deploy = await runAction(root, 'deployer', {
      inputs: {
        manifests: join(checkout, 'generated'),
        kubeconfig,
        waves: 'staging-us\nprod-eu,prod-us',
        // As examples/manifests-repo's deploy workflow: longer than the Deployments' progress
        // deadline, so a stalled rollout is reported as Kubernetes sees it.
        timeout: '10m',
        commit,
        'commit-time': commitTime
      },
      env: {
        GITHUB_WORKSPACE: checkout,
        GITHUB_REPOSITORY: 'acme/manifests',
        GITHUB_SHA: commit,
        GITHUB_RUN_ID: String(Date.now())
      },
      cwd: checkout,
      onLine: show
    })
    const file = join(summaries, `step-${step}-summary.md`)
    writeFileSync(file, deploy.summary)
    const head = summaryHead(deploy.summary)
    console.log(`\n  ${bold('Step summary')} ${dim('(what GitHub shows on the run page)')}`)
    console.log(indent(head))
    const rest = deploy.summary.trimEnd().split('\n').length - head.trimEnd().split('\n').length
    if (rest > 0) console.log(dim(`    … ${rest} more lines (what changed, per cluster): ${file}`))
    return deploy
  }

  heading('image-deployer: record ghcr.io/acme/web:1.4.0 in images/web/main.yaml')
  await bump('ghcr.io/acme/web:1.4.0', 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678')
  const good = await renderAndDeploy('web 1.4.0')
  console.log(
    good.exitCode === 0
      ? green('\n  ✓ every cluster is healthy on web 1.4.0')
      : red(`\n  ✗ deployer exited ${good.exitCode}`)
  )
  if (good.exitCode !== 0) exitCode = 1

  heading('image-deployer: record a broken build, ghcr.io/acme/web:1.5.0-crashloop')
  await bump('ghcr.io/acme/web:1.5.0-crashloop', 'b2c3d4e5f60718293a4b5c6d7e8f901234567890')
  const bad = await renderAndDeploy('web 1.5.0, broken')
  if (bad.exitCode === 0) {
    console.log(red('\n  ✗ the broken image was reported healthy'))
    exitCode = 1
  } else {
    console.log(
      green(
        "\n  ✓ staging failed with the pod's reason and was rolled back; production was not touched"
      )
    )
    console.log(
      dim('    (the deployer exits non-zero here, as it does in CI, so the run shows red)')
    )
  }
  const history = await server.git('manifests', ['log', '--format=%h %s', 'main'])
  heading('The audit trail: the manifests repository history')
  console.log(indent(history))
} catch (err) {
  console.error(red(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}`))
  exitCode = 1
} finally {
  await server.close()
  rmSync(work, { recursive: true, force: true })
  if (keep)
    console.log(
      dim(
        `\nclusters left running: KUBECONFIG=${set.kubeconfigPath}  (stop with npm run clusters -- down)`
      )
    )
  else await downClusters({ log: (l) => console.log(dim(l)) })
  const written = readdirSync(summaries)
  if (written.length > 0)
    console.log(
      `\nfull step summaries (markdown): ${written.map((f) => join(summaries, f)).join('  ')}`
    )
  else rmSync(summaries, { recursive: true, force: true })
  console.log(dim(`demo finished in ${((Date.now() - started) / 1000).toFixed(0)}s`))
}
process.exitCode = exitCode
