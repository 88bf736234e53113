import { startGitServer } from './testinfra/git-server/server.js'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
const execFileSync = promisify(execFile)
const s = await startGitServer({ token: 'tok-123456' })
const url = await s.createRepo('r', [{ files: { 'README.md': 'x\n' } }])
const env = { ...process.env, GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: 'Authorization: Basic ' + Buffer.from('x:tok-123456').toString('base64') }
for (let i = 0; i < 3; i++) { const t = Date.now(); await execFileSync('git', ['ls-remote', url], { env }); console.log('ls-remote', Date.now() - t) }
for (let i = 0; i < 3; i++) { const t = Date.now(); await execFileSync('git', ['ls-remote', s.root + '/r.git'], { env }); console.log('ls-remote local', Date.now() - t) }
for (let i = 0; i < 3; i++) { const t = Date.now(); await fetch(url + '/info/refs?service=git-upload-pack', { headers: { authorization: 'Basic ' + Buffer.from('x:tok-123456').toString('base64') } }).then(r => r.text()); console.log('http info/refs', Date.now() - t) }
await s.close()
