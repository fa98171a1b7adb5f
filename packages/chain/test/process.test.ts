// Tests on the built dist/ in child processes whose environment the test controls completely:
// the import graph of @podcreds/chain, and the real lazy fallback to
// @aws-sdk/credential-provider-node (which reads process.env, not our injected env).
import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildPackage } from '../../../test/support/build.js'
import type { TempDir } from '../../../test/support/tempDir.js'
import { tempDir } from '../../../test/support/tempDir.js'
import type { TestServer } from './helpers.js'
import { CANARY_SECRET, startAgent, writeToken } from './helpers.js'

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const distEntry = pathToFileURL(join(packageDir, 'dist', 'index.js')).href
const preload = fileURLToPath(new URL('./fixtures/log-resolutions.mjs', import.meta.url))
const driver = fileURLToPath(new URL('./fixtures/run-chain.mjs', import.meta.url))

/** Modules the default path must never load (DESIGN "Cold-start budget"). */
const HEAVY = [
  '@aws-sdk/credential-provider-node',
  '@aws-sdk/credential-provider-ini',
  'undici',
  'fast-xml-parser',
  'lru-cache',
]

interface RunResult {
  out: {
    exports: string[]
    ok?: boolean
    accessKeyId?: string
    code?: string
    tryNextLink?: boolean
    message?: string
    isCoreCredentialsError?: boolean
    explanation?: { chosen?: string; links: { name: string; status: string; reason: string }[] }
  }
  /** Every resolution: `specifier<TAB>url`. */
  resolved: { specifier: string; url: string }[]
  stderr: string
}

let tmp: TempDir
let runs = 0

/** Runs the driver in a fresh `node` with exactly `env` (plus the resolve log). */
async function run(mode: 'import' | 'resolve', env: Record<string, string>): Promise<RunResult> {
  const logFile = join(tmp.dir, `resolved-${++runs}.log`)
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', pathToFileURL(preload).href, driver, distEntry, mode],
      { env: { ...env, PODCREDS_RESOLVE_LOG: logFile }, timeout: 30_000 },
      (error, stdout, stderr) =>
        error ? reject(Object.assign(error, { stderr })) : resolve({ stdout, stderr }),
    )
  })
  const resolved = readFileSync(logFile, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [specifier = '', url = ''] = line.split('\t')
      return { specifier, url }
    })
  return { out: JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as RunResult['out'], resolved, stderr }
}

/** The heavy modules among `resolved`: by package directory, and `jose` only as its root entry. */
function heavyLoaded(resolved: RunResult['resolved']): string[] {
  const found = new Set<string>()
  for (const { specifier, url } of resolved) {
    for (const name of HEAVY) if (url.includes(`/node_modules/${name}/`)) found.add(name)
    // The jose root costs ~76 ms; its subpaths (jose/jwt/decode) are fine.
    if (specifier === 'jose') found.add('jose')
  }
  return [...found].sort()
}

/** A pod environment: a home and AWS config files that do not exist, IMDS off. */
function podEnv(extra: Record<string, string> = {}): Record<string, string> {
  const home = join(tmp.dir, 'home')
  mkdirSync(home, { recursive: true })
  return {
    PATH: process.env['PATH'] ?? '',
    HOME: home,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: join(tmp.dir, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: join(tmp.dir, 'none'),
    ...extra,
  }
}

beforeAll(async () => {
  tmp = await tempDir('podcreds-chain-')
  // Always tsc -b (a ~1 s no-op when dist is current): it also rebuilds the packages chain uses.
  buildPackage(packageDir)
}, 120_000)

afterAll(() => tmp.cleanup())

describe('@podcreds/chain in a fresh process (built dist)', () => {
  it('importing it loads none of the heavy modules, and no AWS SDK', async () => {
    const { out, resolved } = await run('import', podEnv())

    expect(out.exports).toEqual(['chain', 'credentialsPlugin', 'defaultChain', 'explain', 'fromEnv'])
    // The hooks saw the package; each @podcreds package it imports statically is its own file,
    // loaded once (scripts/bundle.mjs inlines no sibling: one copy of each module, issue 20);
    // web-identity and sts load on the first IRSA call or role-chaining profile, not here.
    expect(resolved.some(({ url }) => url === distEntry)).toBe(true)
    // (A URL is resolved once per importer; the set is what was loaded.)
    const ours = [...new Set(resolved.map(({ url }) => url))].filter((url) =>
      /\/packages\/[^/]+\/dist\//.test(url),
    )
    expect(ours.map((url) => url.replace(/^.*\/packages\//, '')).sort()).toEqual(
      [
        'chain/dist/index.js',
        'container/dist/index.js',
        'core/dist/index.js',
        'refresh/dist/index.js',
        'token/dist/read.js',
      ].sort(),
    )
    expect(heavyLoaded(resolved)).toEqual([])
    expect(resolved.some(({ url }) => url.includes('/node_modules/@aws-sdk/'))).toBe(false)
  })

  it('with environment keys (a configured source), resolves without loading the AWS SDK', async () => {
    const { out, resolved } = await run(
      'resolve',
      podEnv({ AWS_ACCESS_KEY_ID: 'AKIACHILDPROCESSENV1', AWS_SECRET_ACCESS_KEY: CANARY_SECRET }),
    )

    expect(out.ok).toBe(true)
    expect(out.accessKeyId).toBe('AKIA…ENV1')
    expect(out.explanation?.chosen).toBe('env')
    expect(heavyLoaded(resolved)).toEqual([])
  })

  describe('with Pod Identity configured', () => {
    let agent: TestServer
    beforeAll(async () => {
      agent = await startAgent('ASIACHILDPODIDENTITY')
    })
    afterAll(() => agent.close())

    it('resolves through the container link without loading the AWS SDK or any heavy module', async () => {
      const { out, resolved } = await run(
        'resolve',
        podEnv({
          AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.url}/v1/credentials`,
          AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: writeToken(tmp.dir, 'pod-token', 'pods.eks.amazonaws.com'),
        }),
      )

      expect(out.ok).toBe(true)
      expect(out.accessKeyId).toBe('ASIA…TITY')
      expect(out.explanation?.chosen).toBe('container')
      expect(heavyLoaded(resolved)).toEqual([])
    })
  })

  it('with nothing set up, loads the real SDK fallback lazily and ends in ERR_CHAIN_EXHAUSTED naming every link', async () => {
    const { out, resolved } = await run('resolve', podEnv())

    expect(out.ok).toBe(false)
    expect(out.code).toBe('ERR_CHAIN_EXHAUSTED')
    expect(out.tryNextLink).toBe(true)
    // Thrown by the chain's bundle, recognised by @podcreds/core's own CredentialsError (one copy of core now; the Symbol.for brand keeps instanceof working across duplicate installs too).
    expect(out.isCoreCredentialsError).toBe(true)
    const lines = out.message?.split('\n') ?? []
    expect(lines[0]).toBe('no credentials: all 5 links of the chain were skipped')
    expect(lines.slice(1).map((line) => line.slice(0, line.indexOf(':')))).toEqual([
      '  - env',
      '  - web-identity',
      '  - container',
      '  - sdk',
      '  - imds',
    ])
    expect(lines[4]).toMatch(
      /^ {2}- sdk: the AWS SDK's profile providers found no credentials \(default profile: static keys, SSO, credential_process; last: .+\)$/,
    )
    expect(lines[5]).toBe('  - imds: instance metadata: disabled by AWS_EC2_METADATA_DISABLED')
    // The fallback really ran: the SDK's profile providers were loaded (lazily, after the pod
    // links were skipped).
    expect(heavyLoaded(resolved)).toEqual(['@aws-sdk/credential-provider-ini'])
    expect(out.explanation?.chosen).toBeUndefined()
    expect(out.explanation?.links.map((link) => `${link.name}:${link.status}`)).toEqual([
      'env:skipped',
      'web-identity:skipped',
      'container:skipped',
      'sdk:skipped',
      'imds:skipped',
    ])
  })
})
