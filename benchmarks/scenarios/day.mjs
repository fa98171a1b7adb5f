// 2. Cache hit rate over a day: one process, 1 h credentials, 100 calls/s (10 calls every
// 100 ms of virtual time) for 24 simulated hours. Each side in its own child process.

import { HOUR } from '../lib/sim.mjs'
import { simulateInChild } from '../lib/simulate-worker.mjs'
import { emit, row, scenarioArgs } from '../lib/util.mjs'

const SCENARIO = '2. Cache hit rate over a day'
const args = scenarioArgs()
const hours = args.quick ? 3 : 24
const config = {
  pods: 1,
  hours,
  periodMs: 100,
  callsPerTick: 10,
  startSpreadMs: 1,
  quantumMs: 1,
  lifetimeMs: HOUR,
  latencyMs: 20,
  seed: 7,
}
const sdk = await simulateInChild({ ...config, side: 'sdk' })
const ours = await simulateInChild({ ...config, side: 'ours' })

const figures = (r) => ({
  hitRate: (r.calls - r.waits - r.failures) / r.calls,
  perLifetime: r.sourceCalls / hours,
})
const rows = []
const notes = []
if (ours.missing) {
  rows.push(
    row(SCENARIO, 'hit rate', {
      ours: 'missing',
      sdk: `${(figures(sdk).hitRate * 100).toFixed(4)} %`,
      note: ours.missing,
    }),
  )
} else {
  const o = figures(ours)
  const s = figures(sdk)
  rows.push(
    row(SCENARIO, `hit rate (${hours} h, ${ours.calls.toLocaleString('en-US')} calls)`, {
      ours: `${(o.hitRate * 100).toFixed(4)} %`,
      sdk: `${(s.hitRate * 100).toFixed(4)} %`,
      ratio: o.hitRate / s.hitRate,
      goal: '≥ 99.99 %',
      met: o.hitRate >= 0.9999,
    }),
    row(SCENARIO, 'source calls per credential lifetime (incl. the first fetch)', {
      ours: o.perLifetime,
      sdk: s.perLifetime,
      goal: '≤ 1.3',
      met: o.perLifetime <= 1.3,
    }),
    row(SCENARIO, 'callers that waited after the first fetch', {
      ours: ours.waitsAfterFirst,
      sdk: sdk.waitsAfterFirst,
      goal: '0',
      met: ours.waitsAfterFirst === 0,
      note: `first fetch: ours ${ours.waits - ours.waitsAfterFirst}, SDK ${sdk.waits - sdk.waitsAfterFirst} waiting callers`,
    }),
    row(SCENARIO, 'caller failures', {
      ours: ours.failures,
      sdk: sdk.failures,
      goal: '0',
      met: ours.failures === 0,
    }),
  )
  if (ours.stats) notes.push(`day: podcreds stats(): ${JSON.stringify(ours.stats)}`)
}
emit(args.json, { name: SCENARIO, rows, notes })
