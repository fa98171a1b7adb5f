// Install footprint of a package's runtime dependency closure: walks `dependencies` and
// `optionalDependencies` (not devDependencies, not optional peers) through the real pnpm
// layout (node_modules/.pnpm symlinks, resolved with Node's resolver from each package's own
// directory), counting distinct name@version packages and the bytes npm would install. A
// workspace package counts what it publishes: package.json, README/LICENSE and `files` (dist/,
// without *.tsbuildinfo); a registry package counts its whole directory minus nested node_modules.
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { dirname, join, sep } from 'node:path'

function findPackageDir(name, fromDir) {
  let dir = fromDir
  for (;;) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate)
    const parent = dirname(dir)
    if (parent === dir) return null
    dir = parent
  }
}

function dirBytes(dir, { skip = () => false } = {}) {
  let bytes = 0
  let files = 0
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules') continue
    const p = join(dir, entry)
    if (skip(p)) continue
    const st = lstatSync(p)
    if (st.isSymbolicLink()) continue
    if (st.isDirectory()) {
      const sub = dirBytes(p, { skip })
      bytes += sub.bytes
      files += sub.files
    } else {
      bytes += st.size
      files++
    }
  }
  return { bytes, files }
}

function publishedBytes(dir, pkg) {
  const isWorkspace = !dir.split(sep).includes('.pnpm')
  if (!isWorkspace) return dirBytes(dir).bytes
  let bytes = statSync(join(dir, 'package.json')).size
  for (const f of readdirSync(dir)) {
    if (/^(readme|license|licence|changelog)/i.test(f)) bytes += statSync(join(dir, f)).size
  }
  for (const entry of pkg.files ?? ['dist']) {
    if (entry.startsWith('!')) continue
    const p = join(dir, entry)
    if (!existsSync(p)) continue
    bytes += statSync(p).isDirectory()
      ? dirBytes(p, { skip: (q) => q.endsWith('.tsbuildinfo') }).bytes
      : statSync(p).size
  }
  return bytes
}

/** `{ packages, bytes, list }` of the runtime closure of `name` (or several names) from `fromDir`. */
export function footprint(name, fromDir) {
  const seen = new Map()
  const visit = (depName, from) => {
    const dir = findPackageDir(depName, from)
    if (!dir) return
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    const id = `${pkg.name}@${pkg.version}`
    if (seen.has(id)) return
    seen.set(id, publishedBytes(dir, pkg))
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) visit(dep, dir)
  }
  for (const n of [name].flat()) visit(n, fromDir)
  let bytes = 0
  for (const b of seen.values()) bytes += b
  const largest = [...seen.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3)
  return { packages: seen.size, bytes, list: [...seen.keys()].sort(), largest }
}
