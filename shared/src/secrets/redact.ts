/**
 * A redactor remembers secret values and scrubs them from any text before it is shown.
 * It backs up the runner's own masking (core.setSecret), which only covers the workflow log:
 * summaries, outputs, files and error messages built by kit go through here too.
 */
export class Redactor {
  private readonly secrets = new Set<string>()
  /** The values longest first, kept until the next add: scrub runs on every log line and diff. */
  private sorted: string[] | undefined

  /** Values shorter than this are not masked: masking "1" or "on" would shred every log line. */
  static readonly minLength = 4

  /** Registers a secret (and each of its lines, since multi-line values are logged line by line). */
  add(value: string | undefined): void {
    if (value === undefined) return
    for (const part of [value, ...value.split(/\r?\n/)]) {
      const p = part.trim()
      if (p.length >= Redactor.minLength) this.remember(p)
    }
  }

  /**
   * Registers a secret as one value only, not line by line: for structured text (a kubeconfig)
   * whose individual lines (`apiVersion: v1`) are not secret, while its credential strings are
   * registered separately with add().
   */
  addWhole(value: string | undefined): void {
    const v = value?.trim()
    if (v !== undefined && v.length >= Redactor.minLength) this.remember(v)
  }

  private remember(value: string): void {
    if (this.secrets.has(value)) return
    this.secrets.add(value)
    this.sorted = undefined
  }

  /** Every registered value, longest first so an overlapping shorter one cannot leave a tail. */
  values(): string[] {
    return [...this.longestFirst()]
  }

  private longestFirst(): readonly string[] {
    this.sorted ??= [...this.secrets].sort((a, b) => b.length - a.length)
    return this.sorted
  }

  /** Replaces every registered secret in `text` with `***`. */
  scrub(text: string): string {
    let out = text
    // Most texts hold no secret: a search is cheaper than splitting and joining every time.
    for (const s of this.longestFirst()) if (out.includes(s)) out = out.split(s).join('***')
    return out
  }
}
