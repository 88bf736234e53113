/**
 * A size for messages: `16 MiB`, `1.5 MiB`, `300 KiB`, `12 bytes` (binary units, at most one
 * decimal, as the limits they are compared with are set in binary units).
 */
export function formatBytes(n: number): string {
  const units = [
    ['MiB', 1024 * 1024],
    ['KiB', 1024]
  ] as const
  for (const [unit, size] of units) {
    if (n >= size) return `${Math.round((n / size) * 10) / 10} ${unit}`
  }
  return `${n} ${n === 1 ? 'byte' : 'bytes'}`
}
