// DESIGN.md cold-start budget: importing @podcreds/emulator (as the CLI's `trust-policy` commands
// do) must not load jose, fast-xml-parser or the smithy signer; startEmulator() loads them.
// Runs the built dist/ in a child process (like the CLI tests): `npx tsc -b` first.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url))

describe('lazy imports', () => {
  let dir: string
  let register: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podcreds-hooks-'))
    const hooks = join(dir, 'hooks.mjs')
    await writeFile(
      hooks,
      `export async function resolve(specifier, context, next) {
  const result = await next(specifier, context)
  if (/node_modules\\/(jose|fast-xml-parser|@smithy)\\//.test(result.url)) process.stderr.write('HEAVY ' + result.url + '\\n')
  return result
}
`,
    )
    register = join(dir, 'register.mjs')
    await writeFile(
      register,
      `import { register } from 'node:module'\nregister(${JSON.stringify(pathToFileURL(hooks).href)})\n`,
    )
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  async function heavyModules(script: string): Promise<string[]> {
    expect(existsSync(dist), 'packages/emulator/dist is missing: run `npx tsc -b` first').toBe(true)
    const { stderr } = await run(
      process.execPath,
      ['--import', register, '--input-type=module', '-e', script],
      {
        timeout: 20_000,
      },
    )
    return stderr.split('\n').filter((line) => line.startsWith('HEAVY'))
  }

  it('importing the package and linting a policy loads none of the heavy modules', async () => {
    const heavy = await heavyModules(
      `const m = await import(${JSON.stringify(pathToFileURL(dist).href)}); m.lintTrustPolicy({ Statement: [] })`,
    )
    expect(heavy).toEqual([])
  })

  it('startEmulator() loads them', async () => {
    const heavy = await heavyModules(
      `const m = await import(${JSON.stringify(pathToFileURL(dist).href)}); const e = await m.startEmulator(); await e.close()`,
    )
    expect(heavy.join('\n')).toMatch(/jose/)
    expect(heavy.join('\n')).toMatch(/fast-xml-parser/)
    expect(heavy.join('\n')).toMatch(/signature-v4/)
  })
})
