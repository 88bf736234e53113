/**
 * Counts in messages: `1 cluster`, `2 clusters`, `0 clusters`. Every user-facing count goes
 * through this, so no message ever says "1 problems".
 */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`
}
