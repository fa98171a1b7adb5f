#!/usr/bin/env node
// Packaging gates (issue 3, STYLE.md habit 10): for every public package under packages/, pack it
// exactly as `pnpm publish` would (workspace: ranges rewritten, `files` applied), then lint the
// tarball with publint in strict mode and check its types with @arethetypeswrong (attw).
// Exits non-zero on any finding that is not accepted below. Needs a build first (`pnpm build`:
// `tsc -b`, then scripts/bundle.mjs); fails when dist/ does not hold the bundles of the current
// sources (a `tsc -b` alone leaves tsc's per-module .js files there, which must not be packed).
//
// Both tools run in this process through their JS APIs: one TypeScript load for all packages
// instead of one per `attw` CLI run (~4 s each on these machines).
//
// ACCEPTED attw findings (everything else fails the gate). We ship ESM only (DESIGN "Toolchain"):
//   - `cjs-resolves-to-esm` under `node16-cjs`: a CommonJS caller resolves our ESM entry. On
//     Node >= 20.19 (our `engines` floor) `require(esm)` loads it without flags, and
//     test/packaging.test.ts proves it by require()-ing every packed package from a .cjs script.
//   - `no-resolution` under `node10`, for subpath entries only (`@podcreds/refresh/shared`,
//     `@podcreds/token/read`): TypeScript's legacy `moduleResolution: node10` ignores `exports`.
//     The root entry resolves there too, through a top-level `types` (issue 20: a new user's
//     node10 project found no types); subpaths would need `typesVersions`, which we do not ship
//     (STYLE.md "Habits to avoid"): such projects use `node16`/`nodenext`/`bundler` for them.
// This is the same as attw's `--profile esm-only` except that esm-only ignores *every* problem of
// those two resolution modes; we accept only these two kinds and fail on any other.
import { execFile } from 'node:child_process'
import { existsSync, realpathSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'

const root = fileURLToPath(new URL('..', import.meta.url))
const run = promisify(execFile)

const ACCEPTED_ATTW = [
  { kind: 'CJSResolvesToESM', resolutionKind: 'node16-cjs' },
  { kind: 'NoResolution', resolutionKind: 'node10', subpathsOnly: true },
]

/** @returns {Promise<{ name: string, dir: string, manifest: Record<string, any> }[]>} */
async function publicPackages() {
  const out = []
  for (const entry of (await readdir(join(root, 'packages'), { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    if (!entry.isDirectory()) continue
    const dir = join(root, 'packages', entry.name)
    const file = join(dir, 'package.json')
    if (!existsSync(file)) continue
    const manifest = JSON.parse(await readFile(file, 'utf8'))
    if (manifest.private === true) continue
    out.push({ name: manifest.name, dir, manifest })
  }
  return out
}

/** attw's core library, reached through the CLI we depend on (it is the CLI's own dependency). */
async function loadAttw() {
  // realpath: pnpm links the CLI from its store folder, where its own dependencies sit beside it.
  const cli = realpathSync(join(root, 'node_modules', '@arethetypeswrong', 'cli', 'package.json'))
  const requireFromCli = createRequire(cli)
  return import(pathToFileURL(requireFromCli.resolve('@arethetypeswrong/core')).href)
}

/** Packs all packages in one pnpm run; returns name → tarball path. */
async function packAll(packages, destination) {
  const filters = packages.flatMap((p) => ['--filter', p.name])
  const { stdout } = await run(
    'pnpm',
    ['-r', ...filters, 'pack', '--pack-destination', destination, '--json'],
    { cwd: root, maxBuffer: 64 * 1024 * 1024 },
  )
  const parsed = JSON.parse(stdout)
  const list = Array.isArray(parsed) ? parsed : [parsed]
  return new Map(list.map((p) => [p.name, p.filename]))
}

function isAccepted(problem) {
  return ACCEPTED_ATTW.some(
    (a) =>
      a.kind === problem.kind &&
      a.resolutionKind === problem.resolutionKind &&
      !(a.subpathsOnly && problem.entrypoint === '.'),
  )
}

function describeProblem(problem) {
  const where = [problem.entrypoint, problem.resolutionKind].filter(Boolean).join(' ')
  return `${problem.kind}${where ? ` (${where})` : ''}`
}

async function main() {
  const started = Date.now()
  const packages = await publicPackages()
  const unbuilt = packages.filter((p) => !existsSync(join(p.dir, 'dist')))
  if (unbuilt.length > 0) {
    console.error(`gates: not built: ${unbuilt.map((p) => p.name).join(', ')} (run \`pnpm build\` first)`)
    process.exit(1)
  }
  const bundled = await run(process.execPath, [join(root, 'scripts', 'bundle.mjs'), '--check'], {
    cwd: root,
  }).catch((error) => error)
  if (bundled instanceof Error) {
    console.error(`gates: ${String(bundled.stderr).trim()}`)
    process.exit(1)
  }
  // Docs config should follow the package READMEs (see scripts/sync-typedoc.mjs). A stale
  // one only leaves a README out of the API site, so this is a notice, not a failure.
  const readmes = await run(process.execPath, [join(root, 'scripts', 'sync-typedoc.mjs'), '--check'], {
    cwd: root,
  }).catch((error) => error)
  if (readmes instanceof Error) {
    console.log(`notice: ${String(readmes.stderr).trim()} (run \`node scripts/sync-typedoc.mjs\`)`)
  }
  // DESIGN "Done means": every package has a README (install + one example). A notice for now.
  const noReadme = packages.filter((p) => !existsSync(join(p.dir, 'README.md'))).map((p) => p.name)
  if (noReadme.length > 0) console.log(`notice: no README.md in ${noReadme.join(', ')}`)
  const destination = await mkdtemp(join(tmpdir(), 'podcreds-gates-'))
  try {
    const [tarballs, attw] = await Promise.all([packAll(packages, destination), loadAttw()])
    const rows = []
    const details = []
    for (const pkg of packages) {
      const tarballPath = tarballs.get(pkg.name)
      if (tarballPath === undefined) {
        rows.push({ name: pkg.name, publint: 'not packed', attw: '-', ok: false })
        continue
      }
      const data = await readFile(tarballPath)
      // Apache-2.0, as package.json says: the license text ships in every tarball (issue 20). pnpm
      // pack copies the root LICENSE into a package that has none, so there is one copy in git.
      const listing = (await run('tar', ['-tzf', tarballPath])).stdout.split('\n')
      if (!listing.includes('package/LICENSE')) {
        details.push(`  ${pkg.name}: the tarball has no LICENSE file`)
        rows.push({ name: pkg.name, publint: 'no LICENSE', attw: '-', ok: false })
        continue
      }

      const lint = await publint({
        pack: { tarball: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) },
        strict: true,
        level: 'suggestion',
      })
      const failing = lint.messages.filter((m) => m.type !== 'suggestion')
      const suggestions = lint.messages.filter((m) => m.type === 'suggestion')
      for (const m of lint.messages) {
        details.push(
          `  ${pkg.name}: publint ${m.type}: ${formatMessage(m, lint.pkg, { color: false }) ?? m.code}`,
        )
      }

      const analysis = await attw.checkPackage(attw.createPackageFromTarballData(new Uint8Array(data)))
      let attwCell
      let attwOk = true
      if (!analysis.types) {
        attwCell = 'no types'
        attwOk = false
      } else {
        const rejected = analysis.problems.filter((p) => !isAccepted(p))
        const accepted = analysis.problems.length - rejected.length
        attwOk = rejected.length === 0
        attwCell = attwOk ? `ok (${accepted} accepted)` : `${rejected.length} problem(s)`
        for (const p of rejected) details.push(`  ${pkg.name}: attw: ${describeProblem(p)}`)
      }
      const entrypoints = Object.keys(analysis.entrypoints ?? {}).join(' ')
      rows.push({
        name: pkg.name,
        publint:
          failing.length === 0
            ? `ok${suggestions.length > 0 ? ` (${suggestions.length} suggestion(s))` : ''}`
            : `${failing.length} problem(s)`,
        attw: attwCell,
        entrypoints,
        ok: failing.length === 0 && attwOk,
      })
    }

    const header = {
      name: 'package',
      publint: 'publint --strict',
      attw: 'attw',
      entrypoints: 'entry points',
      ok: true,
    }
    const all = [header, ...rows]
    const width = (key) => Math.max(...all.map((r) => String(r[key] ?? '').length))
    const line = (r) =>
      `${r === header ? ' ' : r.ok ? '✓' : '✗'} ${['name', 'publint', 'attw', 'entrypoints'].map((k) => String(r[k] ?? '').padEnd(width(k))).join('  ')}`
    console.log(all.map(line).join('\n'))
    if (details.length > 0) console.log(details.join('\n'))
    const failed = rows.filter((r) => !r.ok)
    console.log(
      `gates: ${rows.length - failed.length}/${rows.length} packages pass (${((Date.now() - started) / 1000).toFixed(1)} s; accepted attw findings: ${ACCEPTED_ATTW.map((a) => `${a.kind}@${a.resolutionKind}`).join(', ')})`,
    )
    if (failed.length > 0) process.exitCode = 1
  } finally {
    await rm(destination, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(`gates: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
  process.exit(1)
})
