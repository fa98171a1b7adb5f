// Issue 3, "Must be true": a CommonJS consumer can require() every public package on
// Node >= 20.19 (require(esm)), shown by packing the packages with `pnpm pack` and installing the
// tarballs into a scratch project OFFLINE, from the local pnpm store the workspace install filled
// (with a lockfile derived from the workspace's, so no registry metadata is needed either).
// The same scratch project also imports them as ESM and type-checks a consumer under `nodenext`
// from both an .mts and a .cts file against the packed .d.ts (STYLE.md habit 10).
import { execFile } from 'node:child_process'
import { existsSync, realpathSync } from 'node:fs'
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { nodeAgentsSupportProxyEnv } from '@podcreds/core'
import { startEmulator } from '@podcreds/emulator'
import { build as esbuild } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PackedPackage } from './fixtures/scratchLockfile.js'
import { scratchProject } from './fixtures/scratchLockfile.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')

interface PublicPackage {
  name: string
  dir: string
  /** Import specifiers: the package name plus one per subpath export (`@podcreds/refresh/shared`). */
  entries: string[]
}

/** The main export of each package, checked once the package is more than a placeholder. */
const MAIN_EXPORTS: Record<string, string> = {
  '@podcreds/core': 'CredentialsError',
  '@podcreds/refresh': 'refreshing',
  '@podcreds/refresh/shared': 'sharedProvider',
  '@podcreds/token': 'readToken',
  '@podcreds/container': 'fromContainer',
  '@podcreds/sts': 'resolveStsEndpoint',
  '@podcreds/web-identity': 'fromWebIdentity',
  '@podcreds/chain': 'defaultChain',
  '@podcreds/token/read': 'readToken',
  '@podcreds/emulator': 'startEmulator',
  '@podcreds/azure': 'workloadIdentityCredential',
  podcreds: 'CLI_NAME',
}

async function publicPackages(): Promise<PublicPackage[]> {
  const out: PublicPackage[] = []
  for (const dirName of (await readdir(join(root, 'packages'))).sort()) {
    const dir = join(root, 'packages', dirName)
    const file = join(dir, 'package.json')
    if (!existsSync(file)) continue
    const manifest = JSON.parse(await readFile(file, 'utf8')) as {
      name: string
      private?: boolean
      exports: Record<string, unknown>
    }
    if (manifest.private === true) continue
    const entries = Object.keys(manifest.exports)
      .filter((key) => key !== './package.json' && !key.includes('*'))
      .map((key) => (key === '.' ? manifest.name : `${manifest.name}/${key.slice(2)}`))
    out.push({ name: manifest.name, dir, entries })
  }
  return out
}

async function node(args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, args, { cwd, maxBuffer: 16 * 1024 * 1024 })
}

let scratch: string
let withoutPeer: string
let othersWithoutPeer: string
let proxiedWithoutUndici: { code?: string; message?: string }
let packages: PublicPackage[]
let entries: string[]
const packedFiles = new Map<string, string[]>()

beforeAll(async () => {
  packages = await publicPackages()
  entries = packages.flatMap((p) => p.entries)
  // The test script runs `tsc -b` and the bundle step before vitest; build here only if someone
  // runs this file alone.
  if (packages.some((p) => !existsSync(join(p.dir, 'dist', 'index.js')))) {
    await run(process.execPath, [tsc, '-b'], { cwd: root })
      .then(() => run(process.execPath, [join(root, 'scripts', 'bundle.mjs')], { cwd: root }))
      .catch(() => undefined)
  }
  for (const p of packages) {
    if (!existsSync(join(p.dir, 'dist', 'index.js')))
      throw new Error(`${p.name} is not built (run pnpm build)`)
  }

  scratch = await mkdtemp(join(tmpdir(), 'podcreds-packaging-'))
  const tarballDir = join(scratch, 'tarballs')
  const app = join(scratch, 'app')
  await mkdir(app, { recursive: true })

  // `pnpm pack` rewrites workspace:^ ranges to real versions, exactly as `pnpm publish` would.
  const { stdout } = await run(
    'pnpm',
    [
      '-r',
      ...packages.flatMap((p) => ['--filter', p.name]),
      'pack',
      '--pack-destination',
      tarballDir,
      '--json',
    ],
    { cwd: root, maxBuffer: 64 * 1024 * 1024 },
  )
  const packed = JSON.parse(stdout) as { name: string; filename: string; files: { path: string }[] }[]
  const byName = new Map(packages.map((p) => [p.name, p]))
  const tarballs: PackedPackage[] = []
  for (const p of packed) {
    packedFiles.set(
      p.name,
      p.files.map((f) => f.path),
    )
    const pkg = byName.get(p.name)
    if (pkg === undefined) continue
    tarballs.push({
      name: p.name,
      importer: relative(root, pkg.dir),
      tarball: p.filename,
      manifest: JSON.parse(await readFile(join(pkg.dir, 'package.json'), 'utf8')),
    })
  }

  // A lockfile built from the workspace's: pnpm then resolves nothing and needs no registry
  // metadata, only the store the workspace install filled (see test/fixtures/scratchLockfile.ts).
  const project = await scratchProject(root, app, tarballs, ['@types/node', 'test>@aws-sdk/client-s3'])
  await writeFile(join(app, 'package.json'), JSON.stringify(project.manifest, null, 2))
  await writeFile(join(app, 'pnpm-lock.yaml'), project.lockfile)
  const { stdout: storeDir } = await run('pnpm', ['store', 'path'], { cwd: root })
  await run(
    'pnpm',
    [
      'install',
      '--offline',
      '--frozen-lockfile',
      `--config.store-dir=${storeDir.trim()}`,
      // An empty metadata cache, as on a fresh CI machine: proves nothing is resolved.
      `--config.cache-dir=${join(scratch, 'cache')}`,
      '--ignore-scripts',
      '--reporter=append-only',
    ],
    { cwd: app, maxBuffer: 64 * 1024 * 1024 },
  ).catch((error: { stdout?: string; stderr?: string }) => {
    throw new Error(`offline install failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`)
  })

  // lru-cache is an optional peer of @podcreds/refresh, needed by its `/shared` entry only. First
  // what a user who did not install it sees; then install it, as `npm i lru-cache` would (the
  // workspace's copy, linked into the app's node_modules), for the tests below.
  await writeFile(join(app, 'shared.mjs'), "await import('@podcreds/refresh/shared')\n")
  withoutPeer = await node(['shared.mjs'], app).then(
    () => 'loaded',
    (error: { stderr?: string }) => error.stderr ?? '',
  )
  const others = packages.flatMap((p) => p.entries).filter((e) => e !== '@podcreds/refresh/shared')
  await writeFile(
    join(app, 'others.mjs'),
    `for (const name of ${JSON.stringify(others)}) await import(name)\nprocess.stdout.write('all loaded')\n`,
  )
  othersWithoutPeer = await node(['others.mjs'], app).then(
    ({ stdout, stderr }) => `${stdout}${stderr}`,
    (error: { stderr?: string }) => error.stderr ?? '',
  )
  // undici is an optional peer of @podcreds/sts (issue 20), needed only for a proxy on a Node
  // whose own agents cannot use one (before 22.21/24.5), or for a caller's dispatcher. An STS
  // call with a proxy set, in an install without undici; the proxy and STS ports are closed.
  await writeFile(join(app, 'token'), 'opaque-token-for-the-packaging-test\n')
  await writeFile(
    join(app, 'proxied.mjs'),
    `import { fromWebIdentity } from '@podcreds/web-identity'
const provider = fromWebIdentity({ roleArn: 'arn:aws:iam::123456789012:role/app', tokenFile: 'token', endpoint: 'http://127.0.0.1:9', maxAttempts: 1, env: { HTTP_PROXY: 'http://127.0.0.1:9' } })
const error = await provider().then(() => ({}), (e) => e)
process.stdout.write(JSON.stringify({ code: error.code, message: error.message }))
`,
  )
  proxiedWithoutUndici = JSON.parse((await node(['proxied.mjs'], app)).stdout) as typeof proxiedWithoutUndici
  await symlink(
    realpathSync(join(root, 'packages', 'refresh', 'node_modules', 'lru-cache')),
    join(app, 'node_modules', 'lru-cache'),
  )
}, 180_000)

afterAll(async () => {
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true })
})

const app = (): string => join(scratch, 'app')

describe('packed packages', () => {
  it('finds the public packages and packs each with its build only', () => {
    expect(packages.map((p) => p.name)).toContain('@podcreds/core')
    expect(packages.length).toBeGreaterThanOrEqual(9)
    for (const p of packages) {
      const files = packedFiles.get(p.name) ?? []
      expect(files, p.name).toContain('package.json')
      expect(files, p.name).toContain('dist/index.js')
      expect(files, p.name).toContain('dist/index.d.ts')
      for (const file of files) {
        expect(file, `${p.name} ships ${file}`).toMatch(
          /^(dist\/|package\.json$|README\.md$|LICENSE|CHANGELOG\.md$)/,
        )
        expect(file).not.toMatch(/\.tsbuildinfo$|\.test\.|^src\//)
      }
    }
  })

  it('carries no workspace: ranges in the published manifests, and the Apache-2.0 LICENSE', async () => {
    for (const p of packages) {
      const installed = join(app(), 'node_modules', ...p.name.split('/'))
      const text = await readFile(join(installed, 'package.json'), 'utf8')
      expect(text, p.name).not.toContain('workspace:')
      // pnpm pack copies the repository's LICENSE into each tarball (scripts/gates.mjs checks it too).
      expect(await readFile(join(installed, 'LICENSE'), 'utf8'), p.name).toContain('Apache License')
    }
  })

  it('@podcreds/refresh/shared without its optional peer lru-cache fails naming it; the other entries need no peer', async () => {
    expect(withoutPeer).toMatch(/ERR_MODULE_NOT_FOUND/)
    expect(withoutPeer).toMatch(/Cannot find package 'lru-cache'/)
    expect(othersWithoutPeer).toBe('all loaded')
  })

  it('a proxy without undici: Node 22.21+/24.5+ use their own agents; an older Node names the missing peer', () => {
    if (nodeAgentsSupportProxyEnv()) {
      // Through Node's agent to the (closed) proxy port: a network error, not a missing package.
      expect(proxiedWithoutUndici.code).toBe('ERR_NETWORK')
      expect(proxiedWithoutUndici.message).toContain('through the proxy http://127.0.0.1:9')
    } else {
      expect(proxiedWithoutUndici.code).toBe('ERR_INVALID_CONFIG')
      expect(proxiedWithoutUndici.message).toContain(
        'optional peer dependency undici, which is not installed',
      )
      expect(proxiedWithoutUndici.message).toContain('npm install undici@7')
    }
  })

  it('require()s every public package from CommonJS on this Node (require(esm))', async () => {
    const script = `
'use strict'
const entries = JSON.parse(process.argv[2])
const out = { node: process.versions.node, exports: {} }
for (const name of entries) out.exports[name] = Object.keys(require(name)).filter((k) => k !== '__esModule').sort()
const core = require('@podcreds/core')
const err = new core.CredentialsError('not here', { code: 'ERR_NOT_CONFIGURED' })
out.error = { isError: err instanceof Error, brand: core.isCredentialsError(err), tryNextLink: err.tryNextLink, name: err.name }
process.stdout.write(JSON.stringify(out))
`
    await writeFile(join(app(), 'check.cjs'), script)
    const { stdout, stderr } = await node(['check.cjs', JSON.stringify(entries)], app())
    expect(stderr).toBe('')
    const result = JSON.parse(stdout) as {
      node: string
      exports: Record<string, string[]>
      error: Record<string, unknown>
    }
    const [major = 0, minor = 0] = result.node.split('.').map(Number)
    expect(major > 20 || (major === 20 && minor >= 19)).toBe(true)
    expect(Object.keys(result.exports).sort()).toEqual([...entries].sort())
    for (const [name, names] of Object.entries(result.exports)) {
      expect(names.length, `${name} exports something`).toBeGreaterThan(0)
      const main = MAIN_EXPORTS[name]
      expect(main, `${name} needs an entry in MAIN_EXPORTS`).toBeDefined()
      expect(names, name).toContain(main)
    }
    expect(result.exports['@podcreds/core']).toEqual(
      expect.arrayContaining([
        'CredentialsError',
        'isCredentialsError',
        'httpRequest',
        'retry',
        'protectCredentials',
      ]),
    )
    expect(result.error).toEqual({ isError: true, brand: true, tryNextLink: true, name: 'CredentialsError' })
  }, 60_000)

  it('imports every public package from ESM, the same module instances require() returns', async () => {
    const script = `
import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)
const entries = JSON.parse(process.argv[2])
const out = {}
for (const name of entries) {
  const ns = await import(name)
  const viaRequire = require(name)
  const keys = Object.keys(ns).sort()
  out[name] = { keys, same: keys.every((k) => ns[k] === viaRequire[k]) }
}
process.stdout.write(JSON.stringify(out))
`
    await writeFile(join(app(), 'check.mjs'), script)
    const { stdout, stderr } = await node(['check.mjs', JSON.stringify(entries)], app())
    expect(stderr).toBe('')
    const result = JSON.parse(stdout) as Record<string, { keys: string[]; same: boolean }>
    expect(Object.keys(result).sort()).toEqual([...entries].sort())
    for (const [name, { keys, same }] of Object.entries(result)) {
      expect(keys.length, name).toBeGreaterThan(0)
      // No dual-package hazard: one module instance whichever way it is loaded.
      expect(same, name).toBe(true)
    }
    expect(result['@podcreds/core']?.keys).toContain('CredentialsError')
  }, 60_000)

  it('type-checks a consumer under nodenext (.mts and .cts) and bundler against the packed .d.ts', async () => {
    const imports = entries.map((name, i) => ({ name, id: `m${i}` }))
    await writeFile(
      join(app(), 'consumer.mts'),
      [
        ...imports.map(({ name, id }) => `import * as ${id} from '${name}'`),
        `import { CredentialsError } from '@podcreds/core'`,
        `import type { CredentialsErrorCode } from '@podcreds/core'`,
        `export const modules: object[] = [${imports.map(({ id }) => id).join(', ')}]`,
        `const code: CredentialsErrorCode = 'ERR_NOT_CONFIGURED'`,
        `export const error: CredentialsError = new CredentialsError('x', { code })`,
        `export const flag: boolean = error.tryNextLink`,
        '',
      ].join('\n'),
    )
    await writeFile(
      join(app(), 'consumer.cts'),
      [
        ...imports.map(({ name, id }) => `import ${id} = require('${name}')`),
        `export const modules: object[] = [${imports.map(({ id }) => id).join(', ')}]`,
        `export const error = new ${imports.find((m) => m.name === '@podcreds/core')?.id}.CredentialsError('x', { code: 'ERR_STS' })`,
        '',
      ].join('\n'),
    )
    await writeFile(
      join(app(), 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          // Check our .d.ts files too, not only the consumer.
          skipLibCheck: false,
          types: ['node'],
        },
        files: ['consumer.mts', 'consumer.cts'],
      }),
    )
    // The same imports under `moduleResolution: bundler` (Vite, esbuild, webpack users). Only
    // resolution is new there, so its libraries are not checked again.
    await writeFile(join(app(), 'consumer-bundler.ts'), await readFile(join(app(), 'consumer.mts'), 'utf8'))
    await writeFile(
      join(app(), 'tsconfig.bundler.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'preserve',
          moduleResolution: 'bundler',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
        },
        files: ['consumer-bundler.ts'],
      }),
    )
    const check = (project: string): Promise<string> =>
      run(process.execPath, [tsc, '-p', project], { cwd: app() }).then(
        () => '',
        (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
      )
    const [nodenext, bundler] = await Promise.all([check('tsconfig.json'), check('tsconfig.bundler.json')])
    expect(nodenext).toBe('')
    expect(bundler).toBe('')
  }, 120_000)

  it('an app bundled with esbuild carries no undici or fast-xml-parser and runs against the emulator (issue 20)', async () => {
    // The README's first example, bundled as an app would be (platform node), from a user's
    // install (the packed tarballs: no undici, no lru-cache), then run from a folder with no
    // node_modules at all.
    await copyFile(join(root, 'examples', 's3-default-chain.ts'), join(app(), 'app.ts'))
    const out = join(scratch, 'bundled', 'app.mjs')
    const result = await esbuild({
      logOverride: {},
      absWorkingDir: app(),
      entryPoints: [join(app(), 'app.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: out,
      metafile: true,
      logLevel: 'error',
      // The AWS SDK's CommonJS needs `require` in an ESM bundle.
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
    })
    const inputs = Object.keys(result.metafile.inputs)
    expect(inputs.some((input) => input.includes('/@podcreds/chain/'))).toBe(true)
    expect(inputs.filter((input) => /\/(undici|fast-xml-parser)\//.test(input))).toEqual([])

    const emulator = await startEmulator()
    try {
      const ran = await run(process.execPath, [out], {
        cwd: dirname(out),
        env: {
          PATH: process.env.PATH ?? '',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          ...emulator.env,
        },
        timeout: 60_000,
      })
      expect(ran.stdout).toContain('podcreds-demo')
    } finally {
      await emulator.close()
    }

    // The SDK fallback (profiles, SSO, credential_process) is loaded by name at run time, which no
    // bundler can see: with a profile selected, the bundle says that it left the SDK out.
    await writeFile(join(app(), 'config'), '[profile dev]\ncredential_process = /bin/false\n')
    await writeFile(
      join(app(), 'explain.ts'),
      `import { explain } from '@podcreds/chain'
const env = { AWS_PROFILE: 'dev', AWS_CONFIG_FILE: ${JSON.stringify(join(app(), 'config'))}, AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' }
const explanation = await explain({ env, sdkFallback: true, instanceMetadata: false })
console.log(JSON.stringify(explanation.links.find((link) => link.name === 'sdk')))
`,
    )
    const explainOut = join(scratch, 'bundled', 'explain.mjs')
    await esbuild({
      absWorkingDir: app(),
      entryPoints: [join(app(), 'explain.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: explainOut,
      logLevel: 'error',
    })
    const explained = await run(process.execPath, [explainOut], {
      cwd: dirname(explainOut),
      env: { PATH: process.env.PATH ?? '' },
      timeout: 60_000,
    })
    const sdkLink = JSON.parse(explained.stdout) as { status: string; reason: string }
    expect(sdkLink.reason).toContain(
      '@aws-sdk/credential-provider-node is not in this bundle (podcreds loads it by name at run time, which bundlers cannot see): install it where the bundle runs',
    )
  }, 120_000)

  // Issue #21: without the optional peer @aws-sdk/credential-provider-node next to @podcreds/chain,
  // profiles cannot be read; with AWS_PROFILE set, doctor says that, not that the SDK found nothing.
  // The CLI's own @aws-sdk/client-sts brings the package into the install, and the package manager
  // hoists it where chain's folder resolves it: the link it resolves through is moved away for the
  // run, as if it were not installed (client-sts keeps its own link).
  it('doctor with AWS_PROFILE set and no AWS SDK for the chain says the fallback is unavailable', async () => {
    const bin = join(app(), 'node_modules', 'podcreds', 'dist', 'bin.js')
    const chainDir = dirname(createRequire(realpathSync(bin)).resolve('@podcreds/chain/package.json'))
    const hoisted: string[] = []
    for (let dir = chainDir; dir !== dirname(dir); dir = dirname(dir)) {
      const link = join(dir, 'node_modules', '@aws-sdk', 'credential-provider-node')
      if (existsSync(link)) hoisted.push(link)
    }
    for (const link of hoisted) await rename(link, `${link}.moved`)
    // A profile in no file, then one that exists (podsafe: then the chain fails naming it).
    const config = join(scratch, 'config-with-prod')
    await writeFile(config, '[profile prod]\nregion = eu-west-1\n')
    const outputs: string[] = []
    try {
      for (const extra of [{}, { AWS_CONFIG_FILE: config }]) {
        outputs.push(
          await run(process.execPath, [bin, 'doctor', '--json'], {
            cwd: app(),
            env: {
              PATH: process.env.PATH,
              HOME: scratch,
              AWS_PROFILE: 'prod',
              AWS_EC2_METADATA_DISABLED: 'true',
              ...extra,
            },
          }).then(
            ({ stdout }) => stdout,
            (error: { stdout?: string }) => error.stdout ?? '',
          ),
        )
      }
    } finally {
      for (const link of hoisted) await rename(`${link}.moved`, link)
    }
    for (const result of outputs) {
      const findings = (
        JSON.parse(result) as { findings: { severity: string; message: string; fix?: string }[] }
      ).findings
      const errors = findings.filter((finding) => finding.severity === 'error')
      expect(errors, result).toHaveLength(1)
      expect(errors[0]?.fix).toMatch(/install @aws-sdk\/credential-provider-node/)
      expect(result).not.toMatch(/found no credentials/)
    }
    expect(outputs[0]).toMatch(
      /AWS_PROFILE is prod, but profiles cannot be read here: the AWS SDK fallback is unavailable/,
    )
  }, 30_000)
})
