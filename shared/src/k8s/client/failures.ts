/**
 * What a cluster-wide failure says: which address, which kubeconfig entry and which credential
 * it concerns, and what to check. A TLS failure names the certificate check that failed and
 * the kubeconfig fields behind it; a 401 names the user whose credential was refused (its
 * name and kind, never its content); a 403 names the verb and resource; a deadline keeps what
 * the requests were waiting for. Kept apart from the client so every text is table-testable.
 */
import type { KubeConfig } from '@kubernetes/client-node'
import { KubeApiError } from '../types.js'
import { describeNetworkError, errorCode } from './retry.js'

/** What the kubeconfig says about one cluster, for messages (no credential content). */
export interface ConnectionFacts {
  /** The server URL without credentials or path: `https://10.0.0.1:6443`. */
  readonly server?: string
  /** The kubeconfig's cluster entry and user entry names, and its context. */
  readonly clusterEntry?: string
  readonly user?: string
  readonly context?: string
  /** How the user authenticates: "a bearer token", "a client certificate", ... */
  readonly credential?: string
  /** Whether the cluster entry names a CA (data or file); else only the system's CAs count. */
  readonly hasCa: boolean
  readonly tlsServerName?: string
}

/** The facts of a KubeConfig's current context. */
export function connectionFacts(kc: KubeConfig): ConnectionFacts {
  const cluster = kc.getCurrentCluster()
  const user = kc.getCurrentUser()
  return {
    server: originOf(cluster?.server),
    clusterEntry: cluster?.name,
    user: user?.name,
    context: kc.getCurrentContext() || undefined,
    credential: user ? credentialKind(user) : undefined,
    hasCa: Boolean(cluster?.caData || cluster?.caFile),
    tlsServerName: cluster?.tlsServerName
  }
}

/** `https://host:port` of a URL, without user, password, path or query. */
export function originOf(server: string | undefined): string | undefined {
  if (!server) return undefined
  try {
    return new URL(server).origin
  } catch {
    return undefined
  }
}

/** The kind of credential a kubeconfig user holds; never any of its values. */
function credentialKind(user: NonNullable<ReturnType<KubeConfig['getCurrentUser']>>): string {
  const exec = user.exec as { command?: unknown } | undefined
  if (exec) {
    const command = typeof exec.command === 'string' ? exec.command.split(/[\\/]/).pop() : ''
    return `the exec plugin${command ? ` ${command}` : ''}`
  }
  const provider = user.authProvider as { name?: unknown } | undefined
  if (provider)
    return `the auth provider${typeof provider.name === 'string' ? ` ${provider.name}` : ''}`
  if (user.token) return 'a bearer token'
  if (user.certData || user.certFile) return 'a client certificate'
  if (user.username) return 'a user name and password'
  return 'no credential (anonymous)'
}

/** The user a credential failure concerns: `user "ci" (context "prod", a bearer token)`. */
function whichUser(facts: ConnectionFacts): string {
  const parts = [facts.context ? `context "${facts.context}"` : '', facts.credential ?? ''].filter(
    Boolean
  )
  return `user "${facts.user ?? '?'}"${parts.length ? ` (${parts.join(', ')})` : ''}`
}

/** A failed TLS handshake, classified: whose certificate, and what to check. */
export interface TlsFailure {
  /** The server's certificate failed our check, or the server refused our client certificate. */
  readonly side: 'server-certificate' | 'client-certificate' | 'protocol'
  readonly text: string
}

const expiredCodes = /CERT_HAS_EXPIRED|CERT_NOT_YET_VALID/
const nameCodes = /ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH/
const untrustedCodes =
  /SELF_SIGNED|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|CERT_UNTRUSTED|CERT_REJECTED|CERT_SIGNATURE_FAILURE|CERT_CHAIN_TOO_LONG|INVALID_CA/
/** Alerts a server sends when it does not accept the client certificate it was given. */
const clientCertAlerts =
  /ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_REQUIRED|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|DECRYPT_ERROR|ACCESS_DENIED)/

/** A TLS failure described for a person, or undefined when `err` is not one. */
export function describeTlsFailure(err: unknown, facts: ConnectionFacts): TlsFailure | undefined {
  const code = errorCode(err)
  if (!code) return undefined
  const where = facts.server ?? 'the API server'
  const entry = `cluster entry "${facts.clusterEntry ?? '?'}"`
  const text = nodeText(err)
  const detail = `${code}${text && text.length <= 80 ? `: ${text}` : ''}`
  if (clientCertAlerts.test(code))
    return {
      side: 'client-certificate',
      text: `${where} refused the client certificate of ${whichUser(facts)} in the TLS handshake (${detail}); check that user's client-certificate-data: it must be signed by the cluster's client CA and not expired`
    }
  if (expiredCodes.test(code))
    return {
      side: 'server-certificate',
      text: `TLS verification failed: the certificate of ${where} has expired or is not valid yet (${detail}); check the API server's serving certificate and this machine's clock`
    }
  if (nameCodes.test(code))
    return {
      side: 'server-certificate',
      text: `TLS verification failed: the certificate of ${where} is not issued for that name (${detail}); check the server address of ${entry} in the kubeconfig, or set its tls-server-name to a name the certificate holds${facts.tlsServerName ? ` (now "${facts.tlsServerName}")` : ''}`
    }
  if (untrustedCodes.test(code))
    return {
      side: 'server-certificate',
      text: facts.hasCa
        ? `TLS verification failed: the certificate of ${where} is not signed by the CA in certificate-authority-data of ${entry} (${detail}); check that CA, and that the server address is this cluster's`
        : `TLS verification failed: the certificate of ${where} is not signed by a CA this machine trusts, and ${entry} has no certificate-authority-data (${detail}); add the cluster's CA there`
    }
  if (/^ERR_SSL|^ERR_TLS|^EPROTO$/.test(code))
    return {
      side: 'protocol',
      text: `the TLS handshake with ${where} failed (${detail}); check the server address of ${entry} in the kubeconfig: https:// to a port that serves TLS`
    }
  return undefined
}

/** Node's one-line text for an error, without its own hints (which name Node flags, not kubeconfig fields). */
function nodeText(err: unknown): string {
  let e: unknown = err
  for (let i = 0; i < 5 && e && typeof e === 'object'; i++) {
    const { code, message } = e as { code?: unknown; message?: unknown }
    if (typeof code === 'string' && typeof message === 'string')
      return message.split('\n')[0].replace(/;\s*if the root CA is installed locally.*$/, '')
    e = (e as { cause?: unknown }).cause
  }
  return ''
}

/** A 401 from the API server: which credential was refused, and what to check. */
export function describeUnauthorized(err: KubeApiError, facts: ConnectionFacts): string {
  const said =
    err.message && err.message !== 'Unauthorized' ? ` (the API server said: ${err.message})` : ''
  return `${facts.server ?? 'the API server'} refused the credentials of ${whichUser(facts)} (401 Unauthorized); check that the credential is current (not expired or revoked) and issued for this cluster${said}`
}

/**
 * A 403 for `system:anonymous` although the kubeconfig user has a credential: the API server
 * did not accept it (a client certificate signed by a CA it does not trust is ignored, and
 * the request goes on as anonymous). The credential is what failed, not RBAC.
 */
export function isIgnoredCredential(err: KubeApiError, facts: ConnectionFacts): boolean {
  return (
    err.statusCode === 403 &&
    /User "system:anonymous"/.test(err.message) &&
    facts.credential !== undefined &&
    !facts.credential.startsWith('no credential')
  )
}

/** What isIgnoredCredential found, for a person. */
export function describeIgnoredCredential(err: KubeApiError, facts: ConnectionFacts): string {
  return `${facts.server ?? 'the API server'} did not accept the credentials of ${whichUser(facts)} and took the request as anonymous (403: ${err.message.split('\n')[0]}); check that the credential is current and issued for this cluster (a client certificate must be signed by the cluster's client CA)`
}

/**
 * A 403's message naming the verb and the resource. The API server's own message already does
 * ("configmaps "x" is forbidden: User "y" cannot patch resource ..."); a proxy's bare 403 gets
 * them from the request.
 */
export function describeForbidden(
  err: KubeApiError,
  method: string,
  path: string,
  facts: ConnectionFacts
): string {
  if (/cannot \S+ resource/.test(err.message)) return err.message
  const target = resourceOfPath(path)
  const verb = verbOf(method, target.name !== undefined)
  return `forbidden: ${whichUser(facts)} may not ${verb} ${target.resource}${target.name ? ` "${target.name}"` : ''}${target.namespace ? ` in namespace "${target.namespace}"` : ''} (403${err.message && err.message !== 'Forbidden' ? `: ${err.message}` : ''})`
}

function verbOf(method: string, named: boolean): string {
  switch (method) {
    case 'GET':
      return named ? 'get' : 'list'
    case 'POST':
      return 'create'
    case 'PUT':
      return 'update'
    case 'PATCH':
      return 'patch'
    case 'DELETE':
      return 'delete'
    default:
      return method.toLowerCase()
  }
}

/** The resource, namespace and name of an API path (`/apis/apps/v1/namespaces/x/deployments/y`). */
export function resourceOfPath(path: string): {
  resource: string
  namespace?: string
  name?: string
} {
  const parts = path.split('?')[0].split('/').filter(Boolean).map(decodeURIComponent)
  // /api/v1/... or /apis/<group>/<version>/...
  const group = parts[0] === 'apis' ? parts[1] : ''
  let rest = parts.slice(parts[0] === 'apis' ? 3 : 2)
  let namespace: string | undefined
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1]
    rest = rest.slice(2)
  }
  const [resource = 'resource', name] = rest
  return { resource: group ? `${resource}.${group}` : resource, namespace, name }
}

/**
 * Why requests to a cluster did not finish before its deadline: the last failure seen, or the
 * request cut off by it, with the address: "requests to https://10.0.0.1:6443 timed out
 * (create Lease/kit-deploy-lock: no answer in 10s; 2 attempts)".
 */
export function describeStall(
  facts: ConnectionFacts,
  stall: {
    readonly what: string
    readonly attempts: number
    /** The last attempt's failure (a TimeoutError when it got no answer in time). */
    readonly lastError: unknown
    /** How long the last attempt waited. */
    readonly lastAttemptMs: number
  }
): string {
  const server = facts.server ?? 'the API server'
  const tries = stall.attempts > 1 ? `; ${stall.attempts} attempts` : ''
  const err = stall.lastError
  if (isTimeout(err))
    return `requests to ${server} timed out (${stall.what}: no answer in ${seconds(stall.lastAttemptMs)}${tries})`
  if (err instanceof KubeApiError)
    return `${server} answered ${err.statusCode}${err.reason ? ` ${err.reason}` : ''} (${stall.what}: ${err.message.split('\n')[0]}${tries})`
  return `requests to ${server} failed (${stall.what}: ${describeNetworkError(err, facts.server)}${tries})`
}

/** Whether an attempt ended because it got no answer in time. */
export function isTimeout(err: unknown): boolean {
  const name = err && typeof err === 'object' ? (err as { name?: unknown }).name : undefined
  return name === 'TimeoutError' || errorCode(err) === 'ETIMEDOUT'
}

/** 10s, 1.5s, 300 ms. */
export function seconds(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = Math.round(ms / 100) / 10
  return `${s < 10 && !Number.isInteger(s) ? s.toFixed(1) : Math.round(s)}s`
}
