// 8. Memory, in child processes started with --expose-gc: retained heap per cached provider
// (10,000 `refreshing()` engines, each holding credentials and its place in the shared refresh
// scheduler, whose one unref'd timer serves every engine of the clock; informational since issue
// #18) vs
// the SDK's memoized providers; 10,000 keys through `sharedProvider` with max 64; RSS of a
// process that resolved once (podcreds defaultChain vs SDK defaultProvider, emulator agent).
import { fileURLToPath } from 'node:url'
import { startBenchEmulator } from '../lib/emulator-env.mjs'
import { refreshing, sharedProvider } from '../lib/podcreds.mjs'
import { sdkClientStack, sdkMemoize } from '../lib/sdk.mjs'
import { emit, row, runNode, scenarioArgs } from '../lib/util.mjs'

const SELF = fileURLToPath(import.meta.url)
const SCENARIO = '8. Memory'

function heapAfterGc() {
  for (let i = 0; i < 4; i++) globalThis.gc()
  return process.memoryUsage().heapUsed
}

let seq = 0
const source = async () => ({
  accessKeyId: `ASIABENCHMEM${String(seq++).padStart(8, '0')}`,
  secretAccessKey: 'bench-secret-not-real',
  sessionToken: 'bench-session-not-real',
  expiration: new Date(Date.now() + 3600_000),
})

async function worker(kind, n) {
  if (kind === 'rss-ours' || kind === 'rss-sdk') {
    let c
    if (kind === 'rss-ours') {
      const { defaultChain } = await import('@podcreds/chain')
      c = await defaultChain()()
    } else {
      const { defaultProvider } = await import('@aws-sdk/credential-provider-node')
      c = await defaultProvider()()
    }
    if (!c.accessKeyId) throw new Error('no credentials')
    heapAfterGc()
    return { rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed }
  }
  let make
  let missing = null
  if (kind === 'ours') {
    const r = await refreshing()
    missing = r.missing
    make = r.value && (() => r.value(source))
  } else if (kind === 'sdk-memoize') make = () => sdkMemoize(source)
  else if (kind === 'sdk-client-stack') make = () => sdkClientStack(source)
  else if (kind === 'shared') {
    const r = await refreshing()
    const s = await sharedProvider()
    missing = r.missing ?? s.missing
    if (!missing) {
      let created = 0
      let closed = 0
      const factory = () => {
        created++
        const engine = r.value(source)
        const close = engine.close
        engine.close = () => {
          closed++
          close.call(engine)
        }
        return engine
      }
      const before = heapAfterGc()
      let maxLive = 0
      let heap64 = 0
      for (let i = 0; i < n; i++) {
        await s.value(`key-${i}`, factory, { max: 64 })()
        maxLive = Math.max(maxLive, created - closed)
        if (i === 63) heap64 = heapAfterGc() - before
      }
      const heapN = heapAfterGc() - before
      return { created, closed, live: created - closed, maxLive, heap64, heapN }
    }
  }
  if (!make) return { missing }
  // Warm up the code paths (and module-level caches) before the baseline.
  const warm = []
  for (let i = 0; i < 100; i++) warm.push(make())
  for (const p of warm) await p()
  const before = heapAfterGc()
  const keep = new Array(n)
  for (let i = 0; i < n; i++) {
    keep[i] = make()
    await keep[i]()
  }
  const after = heapAfterGc()
  const perInstance = (after - before) / n
  for (const p of [...warm, ...keep]) p.close?.()
  return { perInstance, n }
}

const args = scenarioArgs()
if (args.worker) {
  emit(args.json, await worker(args.worker, Number(args.opts.n ?? 10000)))
  process.exit(0)
} else if (process.argv[1] === SELF) {
  const n = args.quick ? 1000 : 10000
  const run = (kind, env) =>
    runNode(SELF, ['--worker', kind, '--opt', `n=${n}`], { execArgv: ['--expose-gc'], env })
  const rows = []
  const ours = await run('ours')
  const memo = await run('sdk-memoize')
  const stack = await run('sdk-client-stack')
  if (ours.missing) {
    rows.push(
      row(SCENARIO, 'retained heap per cached provider', {
        ours: 'missing',
        sdk: memo.perInstance,
        unit: 'B',
        note: ours.missing,
      }),
    )
  } else {
    rows.push(
      row(SCENARIO, `retained heap per cached provider (${n.toLocaleString('en-US')} instances)`, {
        ours: ours.perInstance,
        sdk: memo.perInstance,
        unit: 'B',
        // Informational (issue #18 retired the goal): a process holds a handful of engines, and up
        // to ~1 KB each buys plain, readable engine code.
        goal: 'informational (≤ ~1 KB)',
        met: null,
        note: `SDK = memoize of @smithy/property-provider; SDK client stack (memoizeChain + memoizeIdentityProvider): ${stack.perInstance.toFixed(0)} B. Includes the credentials object (same on both sides) and, for ours, the engine's state, its method closures and its entry in the refresh scheduler shared by every engine of its clock`,
      }),
    )
  }
  const shared = await run('shared')
  if (shared.missing) {
    rows.push(
      row(SCENARIO, 'sharedProvider live engines', { ours: 'missing', sdk: 'n/a', note: shared.missing }),
    )
  } else {
    rows.push(
      row(SCENARIO, `sharedProvider: live engines after ${n.toLocaleString('en-US')} keys, max 64`, {
        ours: shared.maxLive,
        sdk: 'no equivalent',
        goal: '≤ 64',
        met: shared.maxLive <= 64,
        note: `created ${shared.created}, closed on eviction ${shared.closed}; retained heap after 64 keys ${(shared.heap64 / 1024).toFixed(0)} KiB, after ${n} keys ${(shared.heapN / 1024).toFixed(0)} KiB — a closed engine leaves the clock's shared scheduler and nothing of it stays; what grows is compiled code and V8's own bookkeeping, not engines`,
      }),
    )
  }
  const { emulator, podEnv, missing } = await startBenchEmulator()
  if (!emulator) {
    rows.push(row(SCENARIO, 'RSS after one resolve', { ours: 'missing', sdk: 'missing', note: missing }))
  } else {
    try {
      const sdkRss = await run('rss-sdk', podEnv)
      let oursRss = null
      let oursMissing = null
      try {
        oursRss = await run('rss-ours', podEnv)
      } catch (err) {
        oursMissing = String(err.message).split('\n')[0]
      }
      rows.push(
        row(SCENARIO, 'RSS of a process that resolved once (after GC)', {
          ours: oursRss ? oursRss.rss / 1e6 : 'missing',
          sdk: sdkRss.rss / 1e6,
          unit: 'MB',
          goal: '≤ SDK',
          met: oursRss ? oursRss.rss <= sdkRss.rss : null,
          note:
            oursMissing ??
            `heap used: ours ${(oursRss.heapUsed / 1e6).toFixed(1)} MB, SDK ${(sdkRss.heapUsed / 1e6).toFixed(1)} MB; defaultChain()() vs defaultProvider()()`,
        }),
      )
    } finally {
      await emulator.close()
    }
  }
  emit(args.json, { name: SCENARIO, rows })
}
