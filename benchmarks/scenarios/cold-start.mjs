// 6. Cold start: import time and first resolve in fresh processes against the emulator's
// loopback Pod Identity agent — `@podcreds/chain` `defaultChain()` vs
// `@aws-sdk/credential-provider-node` `defaultProvider()` (median of N alternating runs) — and
// the install footprint (packages, bytes) of each runtime dependency closure.
import { fileURLToPath } from 'node:url'
import { startBenchEmulator } from '../lib/emulator-env.mjs'
import { footprint } from '../lib/footprint.mjs'
import { BENCH_DIR, emit, median, row, runNode, scenarioArgs } from '../lib/util.mjs'

const SELF = fileURLToPath(import.meta.url)
const SCENARIO = '6. Cold start'

async function worker(side) {
  // Timed from here: Node's own start-up is the same for both sides and not counted.
  const t0 = performance.now()
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

const args = scenarioArgs()
if (args.worker) {
  emit(args.json, await worker(args.worker))
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
      const results = { ours: [], sdk: [] }
      let oursMissing = null
      for (let i = 0; i < runs; i++) {
        for (const side of i % 2 === 0 ? ['sdk', 'ours'] : ['ours', 'sdk']) {
          try {
            results[side].push(await runNode(SELF, ['--worker', side], { env: podEnv }))
          } catch (err) {
            if (side === 'ours') oursMissing = String(err.message).split('\n').slice(0, 3).join(' ')
            else throw err
          }
        }
      }
      const m = (side, k) => median(results[side].map((r) => r[k]))
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
            note: 'defaultChain()() vs defaultProvider()(), emulator Pod Identity env',
          }),
        )
      }
    } finally {
      await emulator.close()
    }
  }
  for (const [ours, sdk, label] of [
    ['@podcreds/chain', '@aws-sdk/credential-provider-node', 'default chain'],
    ['@podcreds/web-identity', '@aws-sdk/credential-provider-web-identity', 'web identity'],
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
        note: `${ours} vs ${sdk}`,
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
