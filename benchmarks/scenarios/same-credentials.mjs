// 5. Same-credentials answers: a Pod Identity agent that caches one credential set (6 h
// lifetime) and hands out the SAME set until its own renewal — every 3 h ("renew-3h", what the
// agent does), or only 15 minutes before expiry ("renew-late", a harsher agent). Figure: source
// calls per process-hour and the busiest single hour of one process. Each side in its own child.

import { HOUR } from '../lib/sim.mjs'
import { simulateInChild } from '../lib/simulate-worker.mjs'
import { emit, row, scenarioArgs, sum } from '../lib/util.mjs'

const SCENARIO = '5. Same-credentials answers'
const args = scenarioArgs()
const pods = args.quick ? 3 : 20
const hours = args.quick ? 8 : 24
const rows = []
const notes = []

for (const agent of ['renew-3h', 'renew-late']) {
  const config = {
    pods,
    hours,
    periodMs: 1000,
    startSpreadMs: HOUR,
    quantumMs: 100,
    lifetimeMs: 6 * HOUR,
    latencyMs: 5,
    seed: agent === 'renew-3h' ? 3 : 4,
    agent,
    perPod: true,
  }
  const sdk = await simulateInChild({ ...config, side: 'sdk' })
  const ours = await simulateInChild({ ...config, side: 'ours' })
  const label = agent === 'renew-3h' ? 'agent renews every 3 h' : 'agent renews 15 min before expiry'
  if (ours.missing) {
    rows.push(
      row(SCENARIO, `${label}: source calls per process-hour`, { ours: 'missing', note: ours.missing }),
    )
    continue
  }
  const f = (r) => ({
    perHour: r.sourceCalls / (pods * hours),
    busiest: Math.max(...r.perPodHourly.flat()),
  })
  const o = f(ours)
  const s = f(sdk)
  rows.push(
    row(SCENARIO, `${label}: source calls per process-hour`, {
      ours: o.perHour,
      sdk: s.perHour,
      // Rule 6 bounds a source at the backoff cap to one call per maxBackoffMs/2 (30 s): 120/h.
      goal: 'bounded by the backoff (≤ 120 in any process-hour), no loop',
      met: o.busiest <= 120,
      note: `busiest hour of one process: ours ${o.busiest}, SDK ${s.busiest} calls${ours.stats ? `; ours counted ${ours.stats.unchanged} unchanged answers` : ''}`,
    }),
    row(SCENARIO, `${label}: caller failures`, {
      ours: ours.failures,
      sdk: sdk.failures,
      goal: '0',
      met: ours.failures === 0,
      note: `callers that waited after the first fetch: ours ${ours.waitsAfterFirst}, SDK ${sdk.waitsAfterFirst}`,
    }),
  )
  if (agent === 'renew-late') {
    notes.push(
      `same-credentials (${label}): per process, total source calls ours ${sum(ours.perPodHourly.map(sum))}`,
    )
  }
}
notes.push(`same-credentials: ${pods} processes, ${hours} h, 1 call/s each, 6 h credentials`)
emit(args.json, { name: SCENARIO, rows, notes })
