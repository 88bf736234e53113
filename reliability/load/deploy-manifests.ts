/**
 * Manifests for the deploy load case, in the deployer's input layout
 * (`<dir>/<cluster>/<file>.yaml`, one object per file, as the deploymentizer writes them): per
 * cluster one Namespace and a fixed mix of objects of the kinds a real service fleet has.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** A manifest as the generator writes it (JSON is YAML). */
export interface LoadObject {
  readonly apiVersion: string
  readonly kind: string
  readonly metadata: { name: string; namespace?: string; labels?: Record<string, string> }
  readonly [field: string]: unknown
}

/**
 * The mix for `count` objects besides the Namespace. Deployments and StatefulSets get a Service
 * each (a StatefulSet's is headless, as its serviceName requires); the rest are ConfigMaps.
 */
export function objectMix(count: number): Record<string, number> {
  // Four of each at full size; none in a small (warm-up) set.
  const statefulSets = Math.min(4, Math.floor(count / 50))
  const jobs = statefulSets
  const deployments = Math.round(count * 0.23)
  const secrets = Math.round(count * 0.13)
  const services = deployments + statefulSets
  const configMaps = count - deployments - statefulSets - jobs - services - secrets
  if (configMaps < 0) throw new Error(`${count} objects are too few for the load mix`)
  return {
    ConfigMap: configMaps,
    Secret: secrets,
    Service: services,
    Deployment: deployments,
    StatefulSet: statefulSets,
    Job: jobs
  }
}

const b64 = (s: string): string => Buffer.from(s).toString('base64')

/** The Namespace and `count` objects for one namespace, in a fixed order. */
export function loadObjects(namespace: string, count: number): LoadObject[] {
  const mix = objectMix(count)
  const meta = (name: string, app?: string) => ({
    name,
    namespace,
    labels: { 'app.kubernetes.io/part-of': 'kit-load', ...(app ? { app } : {}) }
  })
  const podSpec = (app: string, extra: Record<string, unknown> = {}) => ({
    containers: [
      {
        name: 'app',
        image: `registry.example/load/${app}:1.0.0`,
        ports: [{ containerPort: 8080 }],
        env: [{ name: 'APP', value: app }],
        resources: { requests: { cpu: '10m', memory: '16Mi' } }
      }
    ],
    ...extra
  })
  const out: LoadObject[] = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]
  for (let i = 0; i < mix.ConfigMap; i++)
    out.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(`config-${i}`),
      data: { index: String(i), 'settings.yaml': `level: info\nshard: ${i}\n${'x'.repeat(160)}\n` }
    })
  for (let i = 0; i < mix.Secret; i++)
    // Every fourth Secret uses stringData, which the API server turns into data: an unchanged
    // redeploy must still see it as unchanged.
    out.push(
      i % 4 === 0
        ? {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: meta(`secret-${i}`),
            type: 'Opaque',
            stringData: { token: `load-token-${i}` }
          }
        : {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: meta(`secret-${i}`),
            type: 'Opaque',
            data: { token: b64(`load-token-${i}`), user: b64(`user-${i}`) }
          }
    )
  for (let i = 0; i < mix.Deployment; i++) {
    const app = `app-${i}`
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(app, app),
      spec: { selector: { app }, ports: [{ port: 80, targetPort: 8080 }] }
    })
    out.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(app, app),
      spec: {
        replicas: 1,
        selector: { matchLabels: { app } },
        template: { metadata: { labels: { app } }, spec: podSpec(app) }
      }
    })
  }
  for (let i = 0; i < mix.StatefulSet; i++) {
    const app = `store-${i}`
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(app, app),
      spec: { clusterIP: 'None', selector: { app }, ports: [{ port: 5432 }] }
    })
    out.push({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: meta(app, app),
      spec: {
        serviceName: app,
        replicas: 1,
        selector: { matchLabels: { app } },
        template: { metadata: { labels: { app } }, spec: podSpec(app) }
      }
    })
  }
  for (let i = 0; i < mix.Job; i++) {
    const app = `migrate-${i}`
    out.push({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: meta(app, app),
      spec: {
        backoffLimit: 2,
        template: {
          metadata: { labels: { app } },
          spec: podSpec(app, { restartPolicy: 'Never' })
        }
      }
    })
  }
  return out
}

/**
 * Writes `<dir>/<cluster>/<nnn>-<kind>-<name>.yaml` for every cluster and returns the objects
 * each cluster gets (the same for all).
 */
export function writeDeployManifests(
  dir: string,
  clusters: readonly string[],
  namespace: string,
  count: number
): LoadObject[] {
  const objects = loadObjects(namespace, count)
  for (const cluster of clusters) {
    mkdirSync(join(dir, cluster), { recursive: true })
    objects.forEach((o, i) =>
      writeFileSync(
        join(
          dir,
          cluster,
          `${String(i).padStart(3, '0')}-${o.kind.toLowerCase()}-${o.metadata.name}.yaml`
        ),
        `${JSON.stringify(o, null, 2)}\n`
      )
    )
  }
  return objects
}
