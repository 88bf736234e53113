/**
 * Sets an own key, even `__proto__`: a key read from YAML or JSON must never reach an object's
 * prototype. Shared by the render's merge and the deployer's copies and diffs.
 */
export function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true
    })
  } else target[key] = value
}
