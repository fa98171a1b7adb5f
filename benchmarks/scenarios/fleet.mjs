// 3. Fleet herd: N pods started within 30 s, each calling its provider every 10 s, for 12
// simulated hours; in-process sources (no HTTP at this scale). Ours: `refreshing()` on a virtual
// `Clock`; the SDK: its client cache stack driven by @sinonjs/fake-timers. Each side in its own
// child process.

import { HOUR, PerMinute, randomHerd } from '../lib/sim.mjs'
import { START } from '../lib/simulate.mjs'
import { simulateInChild } from '../lib/simulate-worker.mjs'
import { lineChart } from '../lib/svg.mjs'
import { emit, row, scenarioArgs } from '../lib/util.mjs'

/** Bin width for the noise-aware herd factor: this many source calls per bin on average. */
const MIN_CALLS_PER_BIN = 20

export const FLEET_BASE = { periodMs: 10_000, startSpreadMs: 30_000, latencyMs: 20, seed: 42, quantumMs: 100 }

/**
 * Herd figures of one side's result, from hour 2 (minute 60) on: per minute, and in bins of
 * `binMinutes` (by default wide enough to hold ~20 calls on average: at the 6 h lifetime's ~3 calls
 * a minute the busiest one-minute bin is mostly chance; see randomHerd and the README).
 */
export function herdFigures(result, binMinutes) {
  const pm = new PerMinute(START, result.perMinute.length)
  pm.counts = result.perMinute
  const w = pm.binned(1, 60)
  const pods = result.config.pods
  const width = binMinutes ?? Math.max(1, Math.ceil(MIN_CALLS_PER_BIN / Math.max(w.mean, 1e-9)))
  return {
    ...w,
    binMinutes: width,
    binned: pm.binned(width, 60),
    // steady state: calls from hour 2 on; `perPodHourAll` also counts the initial fetch
    perPodHour: w.total / (pods * (result.config.hours - 1)),
    perPodHourAll: result.sourceCalls / (pods * result.config.hours),
  }
}

export async function runFleet({ pods, hours, lifetimeMs, label }) {
  const config = { ...FLEET_BASE, pods, hours, lifetimeMs }
  // Both sides at once (two cores); each is its own process, so they share nothing but the CPU.
  const [sdk, ours] = await Promise.all([
    simulateInChild({ ...config, side: 'sdk' }),
    simulateInChild({ ...config, side: 'ours' }),
  ])
  return { label, config, ours, sdk }
}

export function fleetRows(scenario, { label, ours, sdk }) {
  if (ours.missing) {
    const s = herdFigures(sdk)
    return [
      row(scenario, `${label}: peak source calls/min (from hour 2)`, {
        ours: 'missing',
        sdk: s.peak,
        note: ours.missing,
      }),
    ]
  }
  const o = herdFigures(ours)
  // The SDK counted in our bins, so the two binned figures compare.
  const s = herdFigures(sdk, o.binMinutes)
  return [
    row(scenario, `${label}: peak source calls/min (from hour 2)`, {
      ours: o.peak,
      sdk: s.peak,
      goal: '≤ 1/20 of SDK',
      met: o.peak * 20 <= s.peak,
    }),
    row(scenario, `${label}: herd factor (peak/mean minute, from hour 2)`, {
      ours: o.herd,
      sdk: s.herd,
      goal: 'ours ≤ 2.5',
      met: o.herd <= 2.5,
      note: `uniformly random calls at our rate (no herd at all) give ${randomHerd(o.total, o.bins).toFixed(2)}: at a mean of ${o.mean.toFixed(1)} calls a minute the busiest minute is partly chance`,
    }),
    ...(o.binMinutes > 1
      ? [
          row(
            scenario,
            `${label}: herd factor in ${o.binMinutes}-minute bins (≥ ${MIN_CALLS_PER_BIN} calls per bin on average)`,
            {
              ours: o.binned.herd,
              sdk: s.binned.herd,
              goal: 'ours ≤ 2.5',
              met: o.binned.herd <= 2.5,
              note: `the same count at a bin width where chance is small: uniformly random calls give ${randomHerd(o.binned.total, o.binned.bins).toFixed(2)} here`,
            },
          ),
        ]
      : []),
    row(scenario, `${label}: source calls per pod-hour (from hour 2)`, {
      ours: o.perPodHour,
      sdk: s.perPodHour,
      goal: '≤ 1.3',
      met: o.perPodHour <= 1.3,
      note: `incl. the initial fetch: ours ${o.perPodHourAll.toFixed(2)}, SDK ${s.perPodHourAll.toFixed(2)}`,
    }),
    row(scenario, `${label}: callers that waited after the first fetch`, {
      ours: ours.waitsAfterFirst,
      sdk: sdk.waitsAfterFirst,
      goal: '0',
      met: ours.waitsAfterFirst === 0,
      note: `of ${ours.calls.toLocaleString('en-US')} calls`,
    }),
    row(scenario, `${label}: caller failures`, {
      ours: ours.failures,
      sdk: sdk.failures,
      goal: '0',
      met: ours.failures === 0,
    }),
    row(scenario, `${label}: simulation wall time`, {
      ours: ours.wallMs / 1000,
      sdk: sdk.wallMs / 1000,
      unit: 's',
      goal: 'informational',
    }),
  ]
}

export function fleetPlot(file, { label, config, ours, sdk }) {
  const series = [{ name: 'AWS SDK (memoizeChain + client cache)', values: sdk.perMinute }]
  if (!ours.missing)
    series.unshift({ name: 'podcreds refreshing()', values: ours.perMinute, color: '#1f77b4' })
  series[series.length - 1].color = '#d62728'
  return {
    file,
    svg: lineChart({
      title: `Source calls per minute — ${label}, ${config.hours} h`,
      series,
      xLabel: (i) => `${Math.round(i / 60)}h`,
      xTitle: 'simulated time',
      yTitle: 'source calls per minute',
      xTicks: config.hours,
      log: true,
    }),
  }
}

const args = scenarioArgs()
if (import.meta.url === `file://${process.argv[1]}`) {
  const pods = args.quick ? 100 : 1000
  const hours = 12
  const runs = [
    await runFleet({ pods, hours, lifetimeMs: HOUR, label: `IRSA 1 h credentials, ${pods} pods` }),
    await runFleet({
      pods,
      hours,
      lifetimeMs: 6 * HOUR,
      label: `Pod Identity 6 h credentials, ${pods} pods`,
    }),
  ]
  const rows = runs.flatMap((r) => fleetRows('3. Fleet herd', r))
  const plots = [fleetPlot('fleet-irsa-1h.svg', runs[0]), fleetPlot('fleet-pod-identity-6h.svg', runs[1])]
  const ours0 = runs[0].ours
  const notes = ours0.stats
    ? [`fleet IRSA: podcreds stats() summed over pods: ${JSON.stringify(ours0.stats)}`]
    : []
  emit(args.json, { name: '3. Fleet herd', rows, plots, notes })
}
