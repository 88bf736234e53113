/**
 * kit's one bounded-concurrency helper: every "at most N at once" in the project (clusters of a
 * wave, applies within a stage, live reads, readiness reads, inventory checks) goes through it.
 */

/**
 * Runs `fn` over `items` with at most `limit` calls in flight; the results keep the input
 * order. Each worker takes the next item as soon as its previous call settles, so one slow
 * item never holds back the others. A limit below 1 (or not a number) counts as 1.
 *
 * A rejection rejects the returned promise at once; calls already started, and the items the
 * other workers still take, run to their end (nothing is cancelled: pass an AbortSignal to
 * `fn` for that).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>
): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i])
    }
  }
  const workers = Math.min(items.length, Math.max(1, Math.floor(limit) || 1))
  await Promise.all(Array.from({ length: workers }, worker))
  return results
}
