// 4. Outage: the agent (and STS) refuse connections for 10, 30 and 50 minutes. N processes with
// 1 h credentials started at random points of the first hour (so the outage, at 1 h 30 min,
// lands at a different point of each process's credential lifetime), each calling its provider
// 5 times a second. Each side in its own child process.

import { HOUR, MINUTE } from '../lib/sim.mjs'
import { simulateInChild } from '../lib/simulate-worker.mjs'
import { lineChart } from '../lib/svg.mjs'
import { emit, median, row, scenarioArgs, sum } from '../lib/util.mjs'

const SCENARIO = '4. Outage'
const args = scenarioArgs()
const pods = args.quick ? 4 : 50
const periodMs = args.quick ? 2000 : 200
const outageStart = 1.5 * HOUR
const rows = []
const notes = []
const plots = []

for (const minutes of [10, 30, 50]) {
  const config = {
    pods,
    hours: Math.ceil((outageStart + minutes * MINUTE + 30 * MINUTE) / HOUR),
    periodMs,
    startSpreadMs: HOUR,
    quantumMs: 100,
    lifetimeMs: HOUR,
    latencyMs: 20,
    seed: 1000 + minutes,
    outage: { fromMs: outageStart, toMs: outageStart + minutes * MINUTE },
  }
  const sdk = await simulateInChild({ ...config, side: 'sdk' })
  const ours = await simulateInChild({ ...config, side: 'ours' })
  const label = `${minutes} min outage`
  if (ours.missing) {
    rows.push(
      row(SCENARIO, `${label}: caller failures`, { ours: 'missing', sdk: sdk.failures, note: ours.missing }),
    )
    continue
  }
  const f = (r) => {
    const affected = r.outage.perPodRate.filter((_, i) => r.outage.perPodPeakMinute[i] > 0)
    const valid = r.outage.perPodValidRate.filter((x) => x !== null)
    const expired = r.outage.perPodExpiredRate.filter((x) => x !== null)
    const callers = r.outage.callerRecoveryMs
    return {
      rate: affected.length ? sum(affected) / affected.length : 0,
      peak: Math.max(0, ...r.outage.perPodPeakMinute),
      affected: affected.length,
      validRate: valid.length ? sum(valid) / valid.length : 0,
      validProcesses: valid.length,
      expiredRate: expired.length ? sum(expired) / expired.length : 0,
      expiredPeak: Math.max(0, ...r.outage.perPodExpiredPeakMinute),
      expiredProcesses: expired.length,
      recoveryMedian: r.outage.recoveryMs.length ? median(r.outage.recoveryMs) / 1000 : 0,
      recoveryMax: r.outage.recoveryMs.length ? Math.max(...r.outage.recoveryMs) / 1000 : 0,
      callers: callers.length,
      callerMedian: callers.length ? median(callers) / 1000 : 0,
      callerMax: callers.length ? Math.max(...callers) / 1000 : 0,
    }
  }
  const o = f(ours)
  const s = f(sdk)
  const recovery = (x) =>
    x.affected === 0
      ? 'n/a (no failed call)'
      : `${x.recoveryMedian.toFixed(1)} s / ${x.recoveryMax.toFixed(1)} s`
  const callerRecovery = (x) =>
    x.callers === 0 ? 'n/a (none expired)' : `${x.callerMedian.toFixed(2)} s / ${x.callerMax.toFixed(2)} s`
  if (minutes === 30) {
    // Source calls per minute of all processes, from 15 min before to 20 min after the outage.
    const from = outageStart / MINUTE - 15
    const to = outageStart / MINUTE + minutes + 20
    plots.push({
      file: 'outage-30min.svg',
      svg: lineChart({
        title: `Source calls per minute, ${pods} processes, 30 min outage at minute 0`,
        series: [
          { name: 'podcreds refreshing()', values: ours.perMinute.slice(from, to), color: '#1f77b4' },
          {
            name: 'AWS SDK (memoizeChain + client cache)',
            values: sdk.perMinute.slice(from, to),
            color: '#d62728',
          },
        ],
        xLabel: (i) => `${i - 15}`,
        xTitle: 'minutes from the start of the outage',
        yTitle: 'source calls per minute',
        xTicks: 13,
        log: true,
      }),
    })
  }
  rows.push(
    row(SCENARIO, `${label}: caller failures while credentials were valid`, {
      ours: ours.failuresWhileValid,
      sdk: sdk.failuresWhileValid,
      goal: '0',
      met: ours.failuresWhileValid === 0,
      note: `all caller failures (incl. after expiry): ours ${ours.failures}, SDK ${sdk.failures}; of them after the source was back: ours ${ours.failuresAfterOutage}, SDK ${sdk.failuresAfterOutage}`,
    }),
    row(SCENARIO, `${label}: source calls per process per minute while the credentials were valid`, {
      ours: o.validRate,
      sdk: s.validRate,
      goal: '≤ 2',
      met: o.validRate <= 2,
      note: `outside the mandatory window, mean over the processes valid for a minute or more of the outage (ours ${o.validProcesses}, SDK ${s.validProcesses} of ${pods}); over the whole outage: ours ${o.rate.toFixed(2)}, SDK ${s.rate.toFixed(0)} a minute, busiest minute of one process: ours ${o.peak}, SDK ${s.peak}`,
    }),
    row(SCENARIO, `${label}: source calls per process per minute while expired and down`, {
      ours: o.expiredProcesses ? o.expiredRate : 'n/a (none expired)',
      sdk: s.expiredProcesses ? s.expiredRate : 'n/a (none expired)',
      goal: '≤ 30',
      met: o.expiredProcesses ? o.expiredPeak <= 30 : null,
      note: o.expiredProcesses
        ? `mean over the processes expired for a minute or more (ours ${o.expiredProcesses}, SDK ${s.expiredProcesses}); busiest minute of one process: ours ${o.expiredPeak}, SDK ${s.expiredPeak} (the SDK calls on every request)`
        : '',
    }),
    row(SCENARIO, `${label}: time until fresh credentials reach callers after the outage (median / max)`, {
      ours: callerRecovery(o),
      sdk: callerRecovery(s),
      ratio: s.callerMedian > 0 ? o.callerMedian / s.callerMedian : null,
      goal: '≤ 1.5 s median',
      met: o.callers === 0 ? null : o.callerMedian <= 1.5,
      note: `processes whose credentials had expired when the source came back (ours ${o.callers}, SDK ${s.callers}), a caller every ${periodMs} ms; first successful source call of every process that saw a failure (most still valid, refreshed on the back-off): ours ${recovery(o)}, SDK ${recovery(s)}`,
    }),
  )
}
notes.push(
  `outage: ${pods} processes, ${1000 / periodMs} calls/s each, 1 h credentials, source latency 20 ms, a dead source fails after 1 ms`,
)
emit(args.json, { name: SCENARIO, rows, notes, plots })
