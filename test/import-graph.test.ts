// Issue 20: importing any public entry point of ours, on any supported Node, loads no tls, https,
// http2 or undici (Node's bundled copy or the npm package); and each module of ours ships in one
// file of one package (the bundles inline no sibling package). Runs the built dist/ in fresh
// processes, as users do, so it holds for whichever `node` runs the suite (the runtime matrix
// runs it on 20, 22, 24 and 26).
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildPackage, bundlesAreFresh } from './support/build.js'
import { runNode } from './support/subprocess.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const packagesDir = join(root, 'packages')

interface PublicPackage {
  dir: string
  name: string
  entries: string[]
}

/** Every public package with the `default` targets of its `exports` (JavaScript entry points). */
function publicPackages(): PublicPackage[] {
  const out: PublicPackage[] = []
  for (const dir of readdirSync(packagesDir).sort()) {
    const pkg = JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8')) as {
      name: string
      private?: boolean
      exports: Record<string, string | { default?: string }>
    }
    if (pkg.private) continue
    const entries = Object.entries(pkg.exports)
      .filter(([subpath]) => subpath !== './package.json')
      .map(([, target]) => (typeof target === 'string' ? target : target.default))
      .filter((target): target is string => target?.endsWith('.js') === true)
    out.push({ dir, name: pkg.name, entries })
  }
  return out
}

const packages = publicPackages()

beforeAll(() => {
  buildPackage(join(packagesDir, 'cli'), bundlesAreFresh)
}, 120_000)

// `process.moduleLoadList` names every builtin Node loaded, its internals included: Node's own
// undici is `internal/deps/undici/undici`; the npm package shows up as a file URL below.
const HEAVY = /\b(NativeModule (https|tls|_tls_common|_tls_wrap|http2)|internal\/deps\/undici)\b/

describe('importing a package loads no heavy module (DESIGN "Cold-start budget", issue 20)', () => {
  const cases = packages.flatMap((p) =>
    p.entries.map((entry) => [`${p.name} ${entry}`, join(packagesDir, p.dir, entry)]),
  )
  it.each(cases)('%s', async (_name, file) => {
    const script = `
const mod = await import(${JSON.stringify(pathToFileURL(file).href)})
const heavy = process.moduleLoadList.filter((m) => ${HEAVY}.test(m))
console.log(JSON.stringify({ exports: Object.keys(mod).length, heavy, node: process.version }))
`
    const result = await runNode(['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    })
    expect(result.stderr).toBe('')
    const out = JSON.parse(result.stdout) as { exports: number; heavy: string[] }
    expect(out.exports).toBeGreaterThan(0)
    expect(out.heavy).toEqual([])
  })
})

describe('one copy of each module (issue 20)', () => {
  it('no bundle carries a module of another package', () => {
    const foreign: string[] = []
    for (const p of packages) {
      const dist = join(packagesDir, p.dir, 'dist')
      const files = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'))
      for (const file of files) {
        // esbuild heads each module it bundles with `// <path from the package>`: a sibling's
        // module would read `// ../core/src/...`.
        for (const [line] of readFileSync(join(dist, file), 'utf8').matchAll(/^\/\/ \.\.\/.*$/gm)) {
          foreign.push(`${p.dir}/dist/${file}: ${line}`)
        }
      }
    }
    expect(foreign).toEqual([])
  })

  it('every module of a package is in exactly one of its files', () => {
    const twice: string[] = []
    for (const p of packages) {
      const dist = join(packagesDir, p.dir, 'dist')
      const seen = new Map<string, string>()
      for (const file of readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) =>
        f.endsWith('.js'),
      )) {
        // (esbuild may head one module's code twice within a file; across files is what counts.)
        const inFile = new Set(
          [...readFileSync(join(dist, file), 'utf8').matchAll(/^\/\/ src\/\S+\.ts$/gm)].map(([line]) => line),
        )
        for (const line of inFile) {
          const other = seen.get(line)
          if (other !== undefined) twice.push(`${p.dir}: ${line} in ${other} and ${file}`)
          seen.set(line, file)
        }
      }
    }
    expect(twice).toEqual([])
  })
})
