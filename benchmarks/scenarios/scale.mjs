// 9. Scale: the fleet scenario (IRSA 1 h credentials) at 1,000 and 10,000 pods, and the hot
// path at 1 and 100 concurrent callers — the figures must grow linearly or better.
import { HOUR } from '../lib/sim.mjs'
import { emit, row, scenarioArgs } from '../lib/util.mjs'
import { herdFigures, runFleet } from './fleet.mjs'
import { hotPathInChild } from './hot-path.mjs'

const SCENARIO = '9. Scale'
const args = scenarioArgs()
const small = args.quick ? 20 : 1000
const large = small * 10
// 6 h (not 12): five steady-state cycles of 1 h credentials, and it keeps `pnpm bench` < 5 min.
const hours = args.quick ? 3 : 6
const rows = []

const a = await runFleet({ pods: small, hours, lifetimeMs: HOUR, label: `${small} pods` })
const b = await runFleet({ pods: large, hours, lifetimeMs: HOUR, label: `${large} pods` })
const k = (n) => n.toLocaleString('en-US')
const pair = (x, y, digits = 1) => `${x.toFixed(digits)} → ${y.toFixed(digits)}`
if (a.ours.missing) {
  rows.push(row(SCENARIO, 'fleet', { ours: 'missing', note: a.ours.missing }))
} else {
  const f = (r) => ({ ...herdFigures(r), costUs: (r.wallMs * 1000) / (r.config.pods * r.config.hours) })
  const [oa, ob, sa, sb] = [f(a.ours), f(b.ours), f(a.sdk), f(b.sdk)]
  rows.push(
    row(SCENARIO, `fleet ${k(small)} → ${k(large)} pods: peak source calls/min per 1,000 pods`, {
      ours: pair((oa.peak * 1000) / small, (ob.peak * 1000) / large),
      sdk: pair((sa.peak * 1000) / small, (sb.peak * 1000) / large),
      ratio: ob.peak / sb.peak,
      goal: 'linear or better (per-pod figure flat)',
      met: ob.peak / large <= (1.1 * oa.peak) / small,
      note: `absolute peaks: ours ${oa.peak} → ${ob.peak}, SDK ${sa.peak} → ${sb.peak}; ratio at ${k(large)} pods`,
    }),
    row(SCENARIO, `fleet ${k(small)} → ${k(large)} pods: source calls per pod-hour`, {
      ours: pair(oa.perPodHour, ob.perPodHour, 2),
      sdk: pair(sa.perPodHour, sb.perPodHour, 2),
      ratio: ob.perPodHour / sb.perPodHour,
      goal: 'flat',
      met: ob.perPodHour <= oa.perPodHour * 1.05,
    }),
    row(SCENARIO, `fleet ${k(small)} → ${k(large)} pods: herd factor`, {
      ours: pair(oa.herd, ob.herd, 2),
      sdk: pair(sa.herd, sb.herd, 1),
      ratio: ob.herd / sb.herd,
      goal: 'ours ≤ 2.5 at both',
      met: oa.herd <= 2.5 && ob.herd <= 2.5,
    }),
    row(SCENARIO, `fleet ${k(small)} → ${k(large)} pods: simulation wall time per pod-hour`, {
      ours: `${pair(oa.costUs, ob.costUs, 0)} µs`,
      sdk: `${pair(sa.costUs, sb.costUs, 0)} µs`,
      ratio: ob.costUs / sb.costUs,
      goal: 'linear (per pod-hour flat)',
      met: ob.costUs <= oa.costUs * 1.5,
      note: 'whole simulation incl. the harness; a cost figure, noisy on a shared machine',
    }),
  )
}

const subjects = 'floor,ours,sdkMemoize'
const one = await hotPathInChild({ quick: args.quick, concurrency: 1, subjects })
const many = await hotPathInChild({ quick: args.quick, concurrency: 100, subjects })
if (one.results.ours) {
  const o1 = one.results.ours.avg
  const o100 = many.results.ours.avg
  const s1 = one.results.sdkMemoize.avg
  const s100 = many.results.sdkMemoize.avg
  rows.push(
    row(SCENARIO, 'hot path ns per call, 1 → 100 concurrent callers', {
      ours: pair(o1, o100, 0),
      sdk: pair(s1, s100, 0),
      ratio: o100 / s100,
      goal: 'per-call cost flat or better',
      met: o100 <= o1 * 1.2,
      note: `SDK = memoize of @smithy/property-provider; floor ${pair(one.results.floor.avg, many.results.floor.avg, 0)} ns; ratio at 100 callers`,
    }),
  )
}
emit(args.json, { name: SCENARIO, rows })
