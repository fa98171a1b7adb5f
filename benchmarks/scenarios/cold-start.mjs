// 6. Cold start: import time and first resolve in fresh processes against the emulator's
// loopback Pod Identity agent — `@podcreds/chain` `defaultChain()` vs
// `@aws-sdk/credential-provider-node` `defaultProvider()` (median of N alternating runs), beside a
// floor that uses no library (node:http GET of the same agent) — and the install footprint
// (packages, bytes) of each runtime dependency closure.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { cachedNode, NODES } from '../../scripts/lib/runtimes.mjs'
import { startBenchEmulator } from '../lib/emulator-env.mjs'
import { footprint } from '../lib/footprint.mjs'
import { BENCH_DIR, emit, median, OUT_DIR, row, runNode, scenarioArgs } from '../lib/util.mjs'

const SELF = fileURLToPath(import.meta.url)
const SCENARIO = '6. Cold start'

async function worker(side) {
  // Timed from here: Node's own start-up is the same for every side and not counted.
  const t0 = performance.now()
  if (side === 'floor') {
    // What any library pays on this path and cannot avoid: node:http, the token file, one GET to
    // the agent in a fresh process (Node's first request runs much of its HTTP and TCP code for
    // the first time), and JSON.parse. No validation, retries, timeouts or caching.
    const http = await import('node:http')
    const { readFile } = await import('node:fs/promises')
    const t1 = performance.now()
    const token = (await readFile(process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, 'utf8')).trim()
    const body = await new Promise((resolve, reject) => {
      http
        .get(process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI, { headers: { authorization: token } }, (res) => {
          const chunks = []
          res.on('data', (c) => chunks.push(c))
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
        })
        .on('error', reject)
    })
    const c = JSON.parse(body)
    const t2 = performance.now()
    if (!c.AccessKeyId) throw new Error('no credentials')
    return { importMs: t1 - t0, resolveMs: t2 - t1 }
  }
  let provider
  if (side === 'ours') {
    const { defaultChain } = await import('@podcreds/chain')
    const t1 = performance.now()
    provider = defaultChain()
    const c = await provider()
    const t2 = performance.now()
    provider.close?.()
    if (!c.accessKeyId) throw new Error('no credentials')
    return { importMs: t1 - t0, resolveMs: t2 - t1 }
  }
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node')
  const t1 = performance.now()
  const c = await defaultProvider()()
  const t2 = performance.now()
  if (!c.accessKeyId) throw new Error('no credentials')
  return { importMs: t1 - t0, resolveMs: t2 - t1 }
}

/** Packages and bytes of the files a worker loaded (ESM via the hook's log, CJS via require.cache). */
function loadedModules() {
  const files = new Set(Object.keys(createRequire(import.meta.url).cache))
  const log = process.env.BENCH_LOAD_LOG
  if (log && existsSync(log)) {
    for (const url of readFileSync(log, 'utf8').split('\n')) if (url) files.add(fileURLToPath(url))
  }
  const packages = new Set()
  let bytes = 0
  let count = 0
  for (const file of files) {
    let name
    const nm = file.lastIndexOf('/node_modules/')
    if (nm >= 0) {
      const parts = file.slice(nm + '/node_modules/'.length).split('/')
      name = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]
    } else {
      const m = /\/packages\/([^/]+)\//.exec(file)
      if (!m) continue // the benchmark's own files
      name = `@podcreds/${m[1]}`
    }
    packages.add(name)
    count++
    bytes += statSync(file).size
  }
  return { packages: [...packages].sort(), files: count, bytes }
}

/**
 * Import and first resolve on each other Node major of the test matrix that is installed
 * (scripts/lib/runtimes.mjs; `pnpm test:runtimes` installs them), ours beside the SDK's in
 * alternating fresh processes (issue 20: the cold start is paid on every Node users run).
 */
async function otherNodes(podEnv, runs) {
  const out = []
  for (const { version } of [...NODES].sort((a, b) =>
    a.version.localeCompare(b.version, 'en', { numeric: true }),
  )) {
    const node = cachedNode(version)
    if (node === undefined) {
      out.push(
        row(SCENARIO, `Node ${version}: import + first resolve`, {
          ours: 'missing',
          sdk: 'missing',
          note: 'not installed: run `pnpm test:runtimes` once',
        }),
      )
      continue
    }
    const results = { ours: [], sdk: [] }
    for (let i = 0; i < runs; i++) {
      for (const side of i % 2 === 0 ? ['sdk', 'ours'] : ['ours', 'sdk']) {
        results[side].push(await runNode(SELF, ['--worker', side], { env: podEnv, node }))
      }
    }
    const m = (side, k) => median(results[side].map((r) => r[k]))
    out.push(
      row(SCENARIO, `Node ${version}: import time`, {
        ours: m('ours', 'importMs'),
        sdk: m('sdk', 'importMs'),
        unit: 'ms',
        goal: '≤ 1/3 of SDK',
        met: m('ours', 'importMs') * 3 <= m('sdk', 'importMs'),
        note: `${runs} runs each, fresh processes`,
      }),
      row(SCENARIO, `Node ${version}: first resolve on the loopback agent`, {
        ours: m('ours', 'resolveMs'),
        sdk: m('sdk', 'resolveMs'),
        unit: 'ms',
        goal: 'informational',
        note: "Node's first HTTP request is most of both (see the floor row for the machine's Node)",
      }),
    )
  }
  return out
}

/**
 * What podcreds adds to an app that already has an AWS SDK client (every app that uses us has
 * one, and its tree holds the SDK's own credential chain): the packages and bytes of
 * `@aws-sdk/client-s3` plus ours, minus `@aws-sdk/client-s3` alone (issue 20; goal ≤ 1 MB).
 */
function footprintInAnApp() {
  const app = footprint('@aws-sdk/client-s3', BENCH_DIR)
  const out = []
  for (const [ours, sdk, label] of [
    ['@podcreds/chain', '@aws-sdk/credential-provider-node', 'default chain'],
    [['@podcreds/container', '@podcreds/refresh'], '@aws-sdk/credential-provider-http', 'Pod Identity only'],
  ]) {
    const withOurs = footprint(['@aws-sdk/client-s3', ours].flat(), BENCH_DIR)
    const withSdk = footprint(['@aws-sdk/client-s3', sdk], BENCH_DIR)
    const added = withOurs.list.filter((id) => !app.list.includes(id))
    const addedBytes = withOurs.bytes - app.bytes
    out.push(
      row(SCENARIO, `added to an app with @aws-sdk/client-s3, ${label}: bytes`, {
        ours: addedBytes / 1e6,
        sdk: (withSdk.bytes - app.bytes) / 1e6,
        unit: 'MB',
        goal: '≤ 1 MB added',
        met: addedBytes <= 1e6,
        note: `app alone ${(app.bytes / 1e6).toFixed(1)} MB, ${app.packages} packages; ours adds ${added.length} packages: ${added.join(', ')}`,
      }),
    )
  }
  return out
}

const args = scenarioArgs()
if (args.worker) {
  const result = await worker(args.worker)
  emit(args.json, args.opts.graph ? { ...result, loaded: loadedModules() } : result)
  // Unref'd sockets and timers must not hold the process; exit explicitly anyway so a stray
  // handle of either side does not skew the next run.
  process.exit(0)
} else if (process.argv[1] === SELF) {
  const runs = args.quick ? 2 : 11
  const rows = []
  const { emulator, podEnv, missing } = await startBenchEmulator()
  if (!emulator) {
    rows.push(row(SCENARIO, 'import + first resolve', { ours: 'missing', sdk: 'missing', note: missing }))
  } else {
    try {
      const results = { ours: [], sdk: [], floor: [] }
      let oursMissing = null
      for (let i = 0; i < runs; i++) {
        const sides = i % 2 === 0 ? ['sdk', 'ours', 'floor'] : ['floor', 'ours', 'sdk']
        for (const side of sides) {
          try {
            results[side].push(await runNode(SELF, ['--worker', side], { env: podEnv }))
          } catch (err) {
            if (side === 'sdk') throw err
            if (side === 'ours') oursMissing = String(err.message).split('\n').slice(0, 3).join(' ')
          }
        }
      }
      const m = (side, k) => median(results[side].map((r) => r[k]))
      // One more run per side with a resolve hook, to list what import + first resolve loaded.
      const hook = pathToFileURL(join(BENCH_DIR, 'lib', 'load-hook.mjs')).href
      const graph = {}
      for (const side of ['ours', 'sdk']) {
        const log = join(OUT_DIR, `load-log-${process.pid}-${side}.txt`)
        try {
          const r = await runNode(SELF, ['--worker', side, '--opt', 'graph=1'], {
            env: { ...podEnv, BENCH_LOAD_LOG: log },
            execArgv: [
              '--import',
              `data:text/javascript,import{register}from'node:module';register('${hook}')`,
            ],
          })
          graph[side] = r.loaded
        } catch (err) {
          graph[side] = null
          oursMissing ??= String(err.message).split('\n')[0]
        }
      }
      if (results.ours.length === 0) {
        rows.push(
          row(SCENARIO, 'import time', {
            ours: 'missing',
            sdk: m('sdk', 'importMs'),
            unit: 'ms',
            note: oursMissing,
          }),
        )
      } else {
        rows.push(
          row(SCENARIO, 'import time (median of fresh processes)', {
            ours: m('ours', 'importMs'),
            sdk: m('sdk', 'importMs'),
            unit: 'ms',
            goal: '≤ 1/3 of SDK',
            met: m('ours', 'importMs') * 3 <= m('sdk', 'importMs'),
            note: `${runs} runs each; @podcreds/chain vs @aws-sdk/credential-provider-node`,
          }),
          row(SCENARIO, 'first resolve on the loopback agent (median)', {
            ours: m('ours', 'resolveMs'),
            sdk: m('sdk', 'resolveMs'),
            unit: 'ms',
            goal: '≤ 1/3 of SDK',
            met: m('ours', 'resolveMs') * 3 <= m('sdk', 'resolveMs'),
            note: `defaultChain()() vs defaultProvider()(), emulator Pod Identity env; the floor alone is ${m('floor', 'resolveMs').toFixed(1)} ms (next row)`,
          }),
        )
        const floor = m('floor', 'resolveMs')
        const above = (side) => Math.max(0, m(side, 'resolveMs') - floor)
        rows.push(
          row(SCENARIO, 'first resolve above the floor (a bare node:http GET of the same agent)', {
            ours: above('ours'),
            sdk: above('sdk'),
            unit: 'ms',
            goal: '≤ 1/3 of SDK',
            met: above('ours') * 3 <= above('sdk'),
            note: `floor ${floor.toFixed(1)} ms (${((floor / m('sdk', 'resolveMs')) * 100).toFixed(0)} % of the SDK's first resolve): read the token file, one GET, JSON.parse, in a fresh process — Node's first HTTP request is most of it; no library can go below it`,
          }),
          row(SCENARIO, 'import + first resolve (what a pod waits for)', {
            ours: m('ours', 'importMs') + m('ours', 'resolveMs'),
            sdk: m('sdk', 'importMs') + m('sdk', 'resolveMs'),
            unit: 'ms',
            goal: 'informational',
            note: `floor ${(m('floor', 'importMs') + floor).toFixed(1)} ms`,
          }),
        )
        if (graph.ours && graph.sdk) {
          const thirdParty = (g) => g.packages.filter((p) => !p.startsWith('@podcreds/'))
          rows.push(
            row(SCENARIO, 'JavaScript loaded by import + first resolve', {
              ours: graph.ours.bytes / 1e3,
              sdk: graph.sdk.bytes / 1e3,
              unit: 'kB',
              goal: 'informational',
              note: `${graph.ours.files} vs ${graph.sdk.files} files (the SDK ships bundles); third-party packages loaded: ours ${thirdParty(graph.ours).join(', ') || 'none'}; SDK ${thirdParty(graph.sdk).length} (${thirdParty(graph.sdk).slice(0, 6).join(', ')}, …)`,
            }),
          )
        }
      }
      rows.push(...(await otherNodes(podEnv, args.quick ? 2 : 5)))
    } finally {
      await emulator.close()
    }
  }
  rows.push(...footprintInAnApp())
  for (const [ours, sdk, label] of [
    ['@podcreds/chain', '@aws-sdk/credential-provider-node', 'default chain'],
    ['@podcreds/web-identity', '@aws-sdk/credential-provider-web-identity', 'web identity'],
    [['@podcreds/container', '@podcreds/refresh'], '@aws-sdk/credential-provider-http', 'Pod Identity only'],
  ]) {
    const o = footprint(ours, BENCH_DIR)
    const s = footprint(sdk, BENCH_DIR)
    const top = (f) => f.largest.map(([id, b]) => `${id} ${(b / 1e6).toFixed(1)} MB`).join(', ')
    rows.push(
      row(SCENARIO, `install footprint, ${label}: packages`, {
        ours: o.packages,
        sdk: s.packages,
        goal: '≤ 1/3 of SDK',
        met: o.packages * 3 <= s.packages,
        note: `${[ours].flat().join(' + ')} vs ${sdk}`,
      }),
      row(SCENARIO, `install footprint, ${label}: bytes`, {
        ours: o.bytes / 1e6,
        sdk: s.bytes / 1e6,
        unit: 'MB',
        goal: '≤ 1/3 of SDK',
        met: o.bytes * 3 <= s.bytes,
        note: `largest: ours ${top(o)}; SDK ${top(s)}`,
      }),
    )
  }
  emit(args.json, { name: SCENARIO, rows })
}
