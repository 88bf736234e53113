import type { Clock } from './types.js'

/** Real time; `sleep` ends early (rejecting) when the signal aborts. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal))
      const onAbort = () => {
        clearTimeout(timer)
        reject(abortReason(signal))
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }, ms)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
}

/** The abort reason as an Error (AbortSignal reasons may be anything). */
export function abortReason(signal: AbortSignal | undefined): Error {
  const r: unknown = signal?.reason
  return r instanceof Error ? r : new Error(typeof r === 'string' ? r : 'aborted')
}

/** Bounded, order-preserving concurrency: kit's one helper (data/map-limit.ts), re-exported. */
export { mapLimit } from '../../data/map-limit.js'
