import { describe, expect, it } from '@jest/globals'
import {
  canonicalRepository,
  defaultImageName,
  formatImageRef,
  imageRefFromParts,
  imageVersion,
  InputError,
  parseImageRef,
  retagImage,
  sameRepository
} from '../../src/index.js'

const digest = `sha256:${'ab'.repeat(32)}`

describe('parseImageRef', () => {
  it.each([
    ['nginx', { registry: undefined, repository: 'nginx', tag: undefined, digest: undefined }],
    ['nginx:1.25', { registry: undefined, repository: 'nginx', tag: '1.25', digest: undefined }],
    [
      'acme/api:main-3f2a1c9',
      { registry: undefined, repository: 'acme/api', tag: 'main-3f2a1c9', digest: undefined }
    ],
    [
      'ghcr.io/acme/api:1.0.0',
      { registry: 'ghcr.io', repository: 'acme/api', tag: '1.0.0', digest: undefined }
    ],
    [
      'localhost:5000/api',
      { registry: 'localhost:5000', repository: 'api', tag: undefined, digest: undefined }
    ],
    [
      'registry.example.com:8443/a/b/c:v1',
      { registry: 'registry.example.com:8443', repository: 'a/b/c', tag: 'v1', digest: undefined }
    ],
    [
      `ghcr.io/acme/api:1@${digest}`,
      { registry: 'ghcr.io', repository: 'acme/api', tag: '1', digest }
    ],
    [
      `ghcr.io/acme/api@${digest}`,
      { registry: 'ghcr.io', repository: 'acme/api', tag: undefined, digest }
    ],
    [
      'quay.io/my_org/my__app-x:V_1.2-rc.3',
      { registry: 'quay.io', repository: 'my_org/my__app-x', tag: 'V_1.2-rc.3', digest: undefined }
    ]
  ])('reads %s', (text, expected) => {
    const ref = parseImageRef(text)
    expect(ref).toEqual(expected)
    expect(formatImageRef(ref)).toBe(text)
  })

  it.each([
    ['', /empty/],
    ['Acme/api:1', /repository component 'Acme'/],
    ['ghcr.io/acme/api:feature/x', /repository component|tag/],
    ['ghcr.io/acme/api:-bad', /tag '-bad'/],
    ['ghcr.io/acme/api:1@sha256:abc', /digest 'sha256:abc' is malformed/],
    [`ghcr.io/acme/api:1@sha256:${'A'.repeat(64)}`, /64 lowercase hex/],
    ['ghcr.io/acme/api@md5', /digest 'md5' is malformed/],
    [
      `ghcr.io/acme/api:1@md5:${'a'.repeat(32)}`,
      /digest algorithm 'md5' is not one registries use/
    ],
    [`ghcr.io/acme/api@sha512:${'a'.repeat(64)}`, /a sha512 digest has 128 lowercase hex/],
    ['ghcr.io//api:1', /empty path component/],
    ['ghcr.io/acme/api :1', /whitespace/],
    // Leading and trailing too: the render writes a reference as it reads it.
    [' ghcr.io/acme/api:1', /whitespace/],
    ['ghcr.io/acme/api:1\n', /whitespace/],
    ['ghcr.io/acme/api:' + 'x'.repeat(129), /at most 128/]
  ])('refuses %s', (text, why) => {
    expect(() => parseImageRef(text)).toThrow(InputError)
    expect(() => parseImageRef(text)).toThrow(why)
  })

  it('names the input and the expected form', () => {
    expect(() => parseImageRef('Bad', 'input image')).toThrow(
      /^input image 'Bad' is not a valid image reference: .*\(expected \[registry\/\]repository\[:tag\]\[@sha256:digest\]\)$/
    )
  })
})

describe('image helpers', () => {
  it('compares repositories the way registries resolve them', () => {
    expect(canonicalRepository(parseImageRef('nginx'))).toBe('docker.io/library/nginx')
    expect(
      sameRepository(parseImageRef('nginx:1'), parseImageRef('docker.io/library/nginx:2'))
    ).toBe(true)
    expect(sameRepository(parseImageRef('index.docker.io/acme/x'), parseImageRef('acme/x'))).toBe(
      true
    )
    expect(
      sameRepository(parseImageRef('ghcr.io/acme/api'), parseImageRef('ghcr.io/acme/api2'))
    ).toBe(false)
    expect(
      sameRepository(parseImageRef('ghcr.io/acme/api'), parseImageRef('quay.io/acme/api'))
    ).toBe(false)
  })

  it('retags keeping the spelling of the name', () => {
    const moved = retagImage(
      parseImageRef('nginx:1.25'),
      parseImageRef(`docker.io/library/nginx:1.27@${digest}`)
    )
    expect(formatImageRef(moved)).toBe(`nginx:1.27@${digest}`)
  })

  it('builds a reference from parts and derives the default name and version', () => {
    const ref = imageRefFromParts({ registry: 'ghcr.io/', repository: 'acme/api', tag: 'main-1' })
    expect(formatImageRef(ref)).toBe('ghcr.io/acme/api:main-1')
    expect(defaultImageName(ref)).toBe('api')
    expect(imageVersion(ref)).toBe('main-1')
    expect(imageVersion(parseImageRef(`a@${digest}`))).toBe('sha256:abababababab')
    expect(() => imageRefFromParts({ repository: 'acme/api', tag: 'feature/x' })).toThrow(
      /tag|component/
    )
  })
})
