// Test support, shared by every package's tests (import it by relative path; it is not a package):
// building a package's dist/ for tests that need it (child processes, separate module instances).
// The test script builds first; this makes `vitest run packages/<dir>` alone work too. Test files
// run in parallel, so the build runs under a lock directory.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url))
const bundle = fileURLToPath(new URL('../../scripts/bundle.mjs', import.meta.url))

/**
 * Runs `tsc -b <packageDir>` (with its references), then `scripts/bundle.mjs <packageDir>` (the
 * published dist/ is one bundle per entry point; the bundle step also covers the @podcreds packages
 * it depends on), under a lock, unless `isFresh()` says dist is
 * current; `isFresh` is asked again once the lock is held, since another test file may have built
 * meanwhile. A lock left by a killed run is taken over after two minutes: no build takes that long.
 */
export function buildPackage(packageDir: string, isFresh: () => boolean = () => false): void {
  if (isFresh()) return
  const lock = join(tmpdir(), `podcreds-${basename(packageDir)}-build.lock`)
  const deadline = Date.now() + 60_000
  for (;;) {
    try {
      mkdirSync(lock)
      break
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true })
      } catch {
        // Released meanwhile.
      }
      if (Date.now() > deadline) throw new Error(`could not take ${lock}`)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50)
    }
  }
  try {
    if (!isFresh()) {
      execFileSync(process.execPath, [tsc, '-b', packageDir], { stdio: 'inherit' })
      execFileSync(process.execPath, [bundle, packageDir], { stdio: ['ignore', 'ignore', 'inherit'] })
    }
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}

const packagesDir = fileURLToPath(new URL('../../packages/', import.meta.url))

/**
 * Whether every package's dist/index.js bundle is at least as new as everything the build reads:
 * every package's src/ (a test that runs the CLI runs every package's bundle, so all must be
 * current; a directory's own mtime covers a deleted file), every
 * package.json and tsconfig.json (exports and compiler options decide what is bundled and how),
 * tsconfig.base.json and scripts/bundle.mjs. The bundle step sets the bundles' mtime on every run,
 * so this is false after a `tsc -b` alone (which leaves the bundles as they were) and after any
 * edit not yet built.
 */
export function bundlesAreFresh(): boolean {
  const root = fileURLToPath(new URL('../../', import.meta.url))
  let newestInput = Math.max(
    statSync(join(root, 'tsconfig.base.json')).mtimeMs,
    statSync(join(root, 'scripts', 'bundle.mjs')).mtimeMs,
  )
  let oldestBundle = Number.POSITIVE_INFINITY
  for (const name of readdirSync(packagesDir)) {
    const src = join(packagesDir, name, 'src')
    const manifest = join(packagesDir, name, 'package.json')
    if (!existsSync(src) || !existsSync(manifest)) continue
    if ((JSON.parse(readFileSync(manifest, 'utf8')) as { private?: boolean }).private === true) continue
    const entry = join(packagesDir, name, 'dist', 'index.js')
    if (!existsSync(entry)) return false
    oldestBundle = Math.min(oldestBundle, statSync(entry).mtimeMs)
    const inputs = [src, manifest, join(packagesDir, name, 'tsconfig.json')]
    for (const file of readdirSync(src, { recursive: true })) inputs.push(join(src, String(file)))
    for (const input of inputs)
      if (existsSync(input)) newestInput = Math.max(newestInput, statSync(input).mtimeMs)
  }
  return newestInput <= oldestBundle
}
