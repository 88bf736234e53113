import { startGitServer } from './testinfra/git-server/server.js'
import { GitBranchTarget } from './shared/src/git/index.js'
import { runBump } from './shared/src/index.js'
import { bumpRequest, provenance, author } from './image-deployer/__tests__/helpers.js'
const token = 'tok-123456'
const s = await startGitServer({ token })
const url = await s.createRepo('r', [{ files: { 'README.md': 'x\n' } }])
const t0 = Date.now()
const jobs = Array.from({ length: 1 }, (_, i) => (async () => {
  const t = new GitBranchTarget({ url, token, branch: 'main', author })
  const r = await runBump(t, bumpRequest(`ghcr.io/acme/svc-${i}:1.0.${i}`, { provenance: provenance({ repository: `acme/svc-${i}` }) }), { maxAttempts: 20, dryRun: false, backoff: { baseMs: 40, capMs: 800 }, log: (l) => console.log(i, Date.now() - t0, l) })
  console.log(i, Date.now() - t0, r.outcome, r.attempts, t.commands)
  await t.close()
})())
await Promise.all(jobs)
console.log('total', Date.now() - t0, 'requests', s.requests)
await s.close()
