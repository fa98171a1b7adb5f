import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { nodeAgentsSupportProxyEnv } from '@podcreds/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildPackage } from '../../../test/support/build.js'
import type { KubeletTokenDir } from '../../../test/support/kubeletTokenDir.js'
import { kubeletTokenDir } from '../../../test/support/kubeletTokenDir.js'
import type { StsFake } from './helpers/stsFake.js'
import { startStsFake } from './helpers/stsFake.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../..', import.meta.url))
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url))
const dist = pathToFileURL(join(root, 'packages/web-identity/dist/index.js')).href

let sts: StsFake
let tokens: KubeletTokenDir
let work: string

beforeAll(async () => {
  // The child runs the built package, as a user would: build it (and core, token) first.
  buildPackage(join(root, 'packages/web-identity'))
  sts = await startStsFake()
  // A non-JWT token: decoding is not what this test is about.
  tokens = await kubeletTokenDir({ token: 'opaque-token-for-import-graph' })
  work = await mkdtemp(join(tmpdir(), 'podcreds-graph-'))
}, 120_000)
afterAll(async () => {
  await sts?.close()
  await tokens?.remove()
  if (work !== undefined) await rm(work, { recursive: true, force: true })
})

/** Runs the entry in a fresh node; returns every module URL or path it loaded. */
async function loaded(
  name: string,
  mode: 'import' | 'call',
  env: Record<string, string> = {},
): Promise<string[]> {
  const log = join(work, `${name}.log`)
  const config = JSON.stringify({
    roleArn: 'arn:aws:iam::123456789012:role/app',
    tokenFile: tokens.path,
    endpoint: sts.url,
    env,
  })
  const { stdout } = await run(
    process.execPath,
    ['--import', join(fixtures, 'record-loads.mjs'), join(fixtures, 'import-entry.mjs'), dist, mode, config],
    { env: { PATH: process.env.PATH ?? '', PODCREDS_LOAD_LOG: log } },
  )
  const esm = (await readFile(log, 'utf8')).split('\n').filter(Boolean)
  const cjs = JSON.parse(stdout) as string[]
  return [...esm, ...cjs]
}

const has = (modules: string[], pkg: string): boolean =>
  modules.some((entry) => entry.includes(`/node_modules/${pkg}/`) || entry.includes(`/${pkg}@`))

describe('import graph', () => {
  it('importing @podcreds/web-identity loads neither an XML parser nor undici', async () => {
    const modules = await loaded('import', 'import')
    expect(modules.some((entry) => entry.includes('web-identity/dist/index.js'))).toBe(true)
    expect(has(modules, '@aws-sdk/xml-builder')).toBe(false)
    expect(has(modules, 'fast-xml-parser')).toBe(false)
    expect(has(modules, 'undici')).toBe(false)
    // The token file is read through @podcreds/token/read; the decoder (jose) loads on first call.
    expect(has(modules, 'jose')).toBe(false)
  })

  it("the first STS call loads the AWS SDK's XML parser (never fast-xml-parser); undici only with a proxy on a Node whose agents cannot proxy", async () => {
    const direct = await loaded('call', 'call')
    expect(has(direct, '@aws-sdk/xml-builder')).toBe(true)
    expect(has(direct, 'fast-xml-parser')).toBe(false)
    expect(has(direct, 'undici')).toBe(false)

    const proxied = await loaded('proxied', 'call', {
      HTTP_PROXY: 'http://127.0.0.1:9',
      NO_PROXY: '127.0.0.1',
    })
    // Node 22.21+/24.5+ proxies through its own agents (proxyEnv): no undici at all (issue 20).
    expect(has(proxied, 'undici')).toBe(!nodeAgentsSupportProxyEnv())
  })
})
