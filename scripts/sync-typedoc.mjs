#!/usr/bin/env node
// Keeps each package's typedoc.json in step with the package:
// - `entryPoints`: one `src/<name>.ts` per subpath export (`./dist/<name>.js`), so every public
//   entry of the package is documented (e.g. `@podcreds/refresh/shared`);
// - `readme`: `README.md` when the package has one, `none` otherwise. Without an explicit
//   `readme`, typedoc falls back to the root README, whose relative links (`packages/core`) are
//   directories it cannot copy: one warning each, fatal under treatWarningsAsErrors.
// Run after adding a README or a subpath export: `node scripts/sync-typedoc.mjs`.
// `--check` only reports (scripts/gates.mjs prints it as a notice).
import { existsSync } from 'node:fs'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const check = process.argv.includes('--check')
let stale = 0
for (const dir of (await readdir(join(root, 'packages'))).sort()) {
  const pkgDir = join(root, 'packages', dir)
  const file = join(pkgDir, 'typedoc.json')
  if (!existsSync(file) || !existsSync(join(pkgDir, 'package.json'))) continue
  const config = JSON.parse(await readFile(file, 'utf8'))
  const manifest = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8'))
  const entryPoints = []
  for (const target of Object.values(manifest.exports ?? {})) {
    const js = typeof target === 'string' ? target : target?.default
    const match = typeof js === 'string' ? /^\.\/dist\/(.+)\.js$/.exec(js) : null
    if (match !== null && existsSync(join(pkgDir, 'src', `${match[1]}.ts`)))
      entryPoints.push(`src/${match[1]}.ts`)
  }
  const wanted = {
    entryPoints: entryPoints.length > 0 ? entryPoints : ['src/index.ts'],
    readme: existsSync(join(pkgDir, 'README.md')) ? 'README.md' : 'none',
  }
  const changes = Object.entries(wanted).filter(
    ([key, value]) => JSON.stringify(config[key]) !== JSON.stringify(value),
  )
  if (changes.length === 0) continue
  stale++
  const what = changes.map(([key, value]) => `${key} = ${JSON.stringify(value)}`).join(', ')
  if (check) {
    console.error(`packages/${dir}/typedoc.json: want ${what}`)
    continue
  }
  Object.assign(config, wanted)
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`)
  console.log(`packages/${dir}/typedoc.json: ${what}`)
}
if (check && stale > 0) process.exit(1)
