import {
  parseImageRef,
  defaultCommitMessage,
  type BumpRequest,
  type Provenance
} from '../../shared/src/index.js'

/** A bump request with test defaults; override what a test is about. */
export function bumpRequest(image: string, overrides: Partial<BumpRequest> = {}): BumpRequest {
  const ref = parseImageRef(image)
  return {
    image: ref,
    imageName: ref.repository.split('/').pop() as string,
    branch: 'main',
    imagesDir: 'images',
    writeImageFile: true,
    values: [],
    manifests: [],
    provenance: provenance(),
    force: false,
    messageTemplate: defaultCommitMessage,
    ...overrides
  }
}

export function provenance(overrides: Partial<Provenance> = {}): Provenance {
  return {
    repository: 'acme/api',
    commit: '0123456789abcdef0123456789abcdef01234567',
    ref: 'refs/heads/main',
    runUrl: 'https://github.com/acme/api/actions/runs/1',
    builtAt: '2026-11-26T07:00:00.000Z',
    ...overrides
  }
}

/** A deterministic random source (mulberry32) so shuffles and jitter repeat run to run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const author = { name: 'kit test', email: 'kit-test@example.com' }
