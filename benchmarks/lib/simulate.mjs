// The virtual-time workload shared by the day, fleet, outage, same-credentials and scale
// scenarios. Runs ONE side (podcreds or the SDK) in the current process; the caller runs each side
// in its own child process (`worker()` below), so the SDK's fake `Date` never touches our side.
import { sdkClientStack } from './sdk.mjs'
import { HOUR, installSdkTime, MINUTE, makeCredentials, PerMinute, VirtualTime } from './sim.mjs'
import { seededRandom } from './util.mjs'

export const START = Date.UTC(2026, 0, 1, 0, 0, 0)

/**
 * config: { side: 'ours'|'sdk', pods, hours, periodMs, callsPerTick, startSpreadMs, quantumMs,
 *   lifetimeMs, latencyMs, seed, outage?: { fromMs, toMs } (relative to START),
 *   agent?: 'fresh' | 'renew-3h' | 'renew-late', perPod?: boolean }
 */
export async function simulate(config, refreshing, CredentialsError = null) {
  const {
    side,
    pods: podCount,
    hours,
    periodMs,
    callsPerTick = 1,
    startSpreadMs,
    quantumMs = 100,
    lifetimeMs,
    latencyMs = 20,
    seed = 1,
    outage = null,
    agent = 'fresh',
    perPod = false,
  } = config
  const vt = new VirtualTime(START)
  const fake = side === 'sdk' ? installSdkTime(vt) : null
  const end = START + hours * HOUR
  const rng = seededRandom(seed)
  const engineRandom = seededRandom(seed * 7919 + 17)
  const perMinute = new PerMinute(START, hours * 60)
  const outageFrom = outage ? START + outage.fromMs : Number.POSITIVE_INFINITY
  const outageTo = outage ? START + outage.toMs : Number.NEGATIVE_INFINITY
  const totals = { sourceCalls: 0, sourceFailures: 0, calls: 0, waits: 0, waitsAfterFirst: 0, failures: 0 }
  const failuresWhileValid = { n: 0 }
  const failuresAfterOutage = { n: 0 }
  let keyId = 0

  const pods = []
  for (let i = 0; i < podCount; i++) {
    const pod = {
      i,
      validUntil: 0,
      sourceCalls: 0,
      outageCalls: 0,
      outageMinutes: outage ? new Array(Math.ceil((outageTo - outageFrom) / MINUTE)).fill(0) : null,
      // During the outage, split by the state of the process's credentials (issue #18): valid and
      // outside the 1-minute mandatory window, or expired.
      outageCallsValid: 0,
      outageCallsExpired: 0,
      expiredMinutes: outage ? new Array(Math.ceil((outageTo - outageFrom) / MINUTE)).fill(0) : null,
      expiredAtOutageEnd: false,
      validUntilInOutage: 0,
      freshToCallerAt: null,
      failures: 0,
      hadOutageFailure: false,
      recoveredAt: null,
      agentSet: null,
      agentIssuedAt: 0,
      hourly: perPod ? new Array(hours).fill(0) : null,
    }
    if (agent !== 'fresh') {
      // The agent has held its current set for a random time already (it serves many pods).
      pod.agentIssuedAt = START - rng() * 3 * HOUR
      pod.agentSet = makeCredentials(pod.agentIssuedAt, lifetimeMs, keyId++)
    }
    pod.source = () => {
      const t = vt.now
      totals.sourceCalls++
      pod.sourceCalls++
      perMinute.add(t)
      if (pod.hourly) pod.hourly[Math.floor((t - START) / HOUR)]++
      const down = t >= outageFrom && t < outageTo
      if (down) {
        pod.outageCalls++
        pod.outageMinutes[Math.floor((t - outageFrom) / MINUTE)]++
        if (t < pod.validUntil - MINUTE) pod.outageCallsValid++
        else if (t >= pod.validUntil) {
          pod.outageCallsExpired++
          pod.expiredMinutes[Math.floor((t - outageFrom) / MINUTE)]++
        }
      }
      return new Promise((resolve, reject) => {
        // A dead agent refuses the connection at once; a live one answers after latencyMs.
        vt.at(t + (down ? 1 : latencyMs), () => {
          if (down) {
            totals.sourceFailures++
            pod.hadOutageFailure = true
            // What fromContainer() raises for a refused connection (same object on both sides).
            const message = 'connect ECONNREFUSED 127.0.0.1:80 (benchmark outage)'
            reject(
              CredentialsError
                ? new CredentialsError(message, { code: 'ERR_NETWORK', retryable: true })
                : Object.assign(new Error(message), { code: 'ERR_NETWORK', retryable: true }),
            )
            return
          }
          const now = vt.now
          let creds
          if (agent === 'fresh') creds = makeCredentials(now, lifetimeMs, keyId++)
          else {
            const renewAt =
              agent === 'renew-3h'
                ? pod.agentIssuedAt + 3 * HOUR
                : pod.agentSet.expiration.getTime() - 15 * MINUTE
            if (now >= renewAt) {
              pod.agentIssuedAt = now
              pod.agentSet = makeCredentials(now, lifetimeMs, keyId++)
            }
            creds = { ...pod.agentSet, expiration: new Date(pod.agentSet.expiration.getTime()) }
          }
          pod.validUntil = Math.max(pod.validUntil, creds.expiration.getTime())
          if (now >= outageTo && pod.hadOutageFailure && pod.recoveredAt === null) pod.recoveredAt = now
          resolve(creds)
        })
      })
    }
    pod.provider =
      side === 'ours'
        ? refreshing(pod.source, { clock: vt.clock(), random: engineRandom })
        : sdkClientStack(pod.source)
    pods.push(pod)
  }

  // Callers: pods start within startSpreadMs (quantized to quantumMs so that pods sharing an
  // instant are called together), then each calls `callsPerTick` times every periodMs.
  const slots = new Map()
  for (const pod of pods) {
    const offset = Math.floor((rng() * startSpreadMs) / quantumMs) * quantumMs
    let slot = slots.get(offset)
    if (!slot) {
      slot = []
      slots.set(offset, slot)
    }
    slot.push(pod)
  }
  for (const [offset, slotPods] of slots) {
    let first = true
    const tick = () => {
      const t0 = vt.now
      const isFirst = first
      first = false
      const onOk = () => {
        if (vt.now !== t0) {
          totals.waits++
          if (!isFirst) totals.waitsAfterFirst++
        }
      }
      for (const pod of slotPods) {
        const onFresh = (creds) => {
          onOk()
          // The first caller to get credentials fetched after the source came back.
          if (pod.freshToCallerAt === null && creds.expiration.getTime() - lifetimeMs >= outageTo) {
            pod.freshToCallerAt = vt.now
          }
        }
        const onErr = () => {
          totals.failures++
          pod.failures++
          if (t0 < pod.validUntil) failuresWhileValid.n++
          if (t0 >= outageTo) failuresAfterOutage.n++
        }
        for (let k = 0; k < callsPerTick; k++) {
          totals.calls++
          pod.provider().then(outage ? onFresh : onOk, onErr)
        }
      }
      if (t0 + periodMs < end) vt.at(t0 + periodMs, tick)
    }
    vt.at(START + offset, tick)
  }
  if (outage) {
    vt.at(outageTo, () => {
      for (const pod of pods) {
        pod.validUntilInOutage = pod.validUntil
        pod.expiredAtOutageEnd = pod.validUntil > 0 && pod.validUntil <= outageTo
      }
    })
  }

  const wallStart = performance.now()
  await vt.run(end)
  const wallMs = performance.now() - wallStart
  const stats = side === 'ours' && typeof pods[0]?.provider.stats === 'function' ? sumStats(pods) : null
  for (const pod of pods) pod.provider.close?.()
  fake?.uninstall()

  const result = {
    side,
    config,
    wallMs,
    ...totals,
    failuresWhileValid: failuresWhileValid.n,
    failuresAfterOutage: failuresAfterOutage.n,
    perMinute: perMinute.counts,
    stats,
  }
  if (outage) {
    const minutes = (outageTo - outageFrom) / MINUTE
    result.outage = {
      minutes,
      perPodRate: pods.map((p) => p.outageCalls / minutes),
      perPodPeakMinute: pods.map((p) => Math.max(0, ...p.outageMinutes)),
      recoveryMs: pods.filter((p) => p.hadOutageFailure).map((p) => (p.recoveredAt ?? end) - outageTo),
      affectedPods: pods.filter((p) => p.hadOutageFailure).length,
      // Processes whose credentials had expired when the source came back: time until fresh
      // credentials reached a caller; the source-call rate of each while valid and while expired.
      callerRecoveryMs: pods
        .filter((p) => p.expiredAtOutageEnd)
        .map((p) => (p.freshToCallerAt ?? end) - outageTo),
      perPodValidRate: pods.map((p) => {
        const validMs = Math.max(0, Math.min(outageTo, p.validUntilInOutage - MINUTE) - outageFrom)
        return validMs >= MINUTE ? p.outageCallsValid / (validMs / MINUTE) : null
      }),
      perPodExpiredRate: pods.map((p) => {
        const expiredMs = Math.max(0, outageTo - Math.max(outageFrom, p.validUntilInOutage))
        return expiredMs >= MINUTE ? p.outageCallsExpired / (expiredMs / MINUTE) : null
      }),
      perPodExpiredPeakMinute: pods.map((p) => Math.max(0, ...p.expiredMinutes)),
    }
  }
  if (perPod) result.perPodHourly = pods.map((p) => p.hourly)
  return result
}

function sumStats(pods) {
  const out = {}
  for (const pod of pods) {
    const s = pod.provider.stats()
    for (const [k, v] of Object.entries(s)) {
      // counters only: windows (…Ms) and instants (…At) do not add up
      if (typeof v === 'number' && !k.endsWith('Ms') && !k.endsWith('At')) out[k] = (out[k] ?? 0) + v
    }
  }
  return out
}
