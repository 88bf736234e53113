// The api service of the example: a tiny HTTP server. What matters for kit is around it: the
// Dockerfile, the build workflow and deploy/ (the service's own templates and values).
import { createServer } from 'node:http'

const port = Number(process.env.PORT ?? 8080)
const version = process.env.APP_VERSION ?? 'dev'

const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n')
    return
  }
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ service: 'api', version, databaseConfigured: Boolean(process.env.DATABASE_URL) }))
})

server.listen(port, () => console.log(`api ${version} listening on :${port}`))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
