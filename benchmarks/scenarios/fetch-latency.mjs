// 7. Uncached fetch latency against the emulator's loopback Pod Identity agent and STS, p50/p99:
// podcreds `fromContainer()` vs the SDK's `fromHttp()`, and `fromWebIdentity()` vs the SDK's
// `fromTokenFile()`. One provider per side, called N times in a row (no cache in front); each
// side in its own child process, against the same emulator in this process.
import { fileURLToPath } from 'node:url'
import { startBenchEmulator } from '../lib/emulator-env.mjs'
import { fromContainer, fromWebIdentity } from '../lib/podcreds.mjs'
import { emit, percentile, row, runNode, scenarioArgs } from '../lib/util.mjs'

const SELF = fileURLToPath(import.meta.url)
const SCENARIO = '7. Uncached fetch latency'

async function worker(kind, n) {
  let provider
  let missing = null
  if (kind === 'agent-ours') {
    const r = await fromContainer()
    missing = r.missing
    provider = r.value?.()
  } else if (kind === 'agent-sdk') {
    const { fromHttp } = await import('@aws-sdk/credential-provider-http')
    provider = fromHttp()
  } else if (kind === 'sts-ours') {
    const r = await fromWebIdentity()
    missing = r.missing
    provider = r.value?.()
  } else {
    const { fromTokenFile } = await import('@aws-sdk/credential-provider-web-identity')
    provider = fromTokenFile()
  }
  if (!provider) return { missing }
  const first0 = performance.now()
  const c = await provider()
  const firstMs = performance.now() - first0
  if (!c.accessKeyId) throw new Error('no credentials')
  for (let i = 0; i < 5; i++) await provider()
  const samples = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await provider()
    samples.push(performance.now() - t0)
  }
  samples.sort((a, b) => a - b)
  return { firstMs, p50: percentile(samples, 50), p99: percentile(samples, 99), n }
}

const args = scenarioArgs()
if (args.worker) {
  emit(args.json, await worker(args.worker, Number(args.opts.n)))
} else if (process.argv[1] === SELF) {
  const n = args.quick ? 40 : 400
  const rows = []
  const { emulator, podEnv, irsaEnv, missing } = await startBenchEmulator()
  if (!emulator) {
    rows.push(row(SCENARIO, 'uncached fetch', { ours: 'missing', sdk: 'missing', note: missing }))
  } else {
    try {
      for (const [target, env, label, sdkName] of [
        ['agent', podEnv, 'Pod Identity agent: fromContainer() vs fromHttp()', 'fromHttp'],
        [
          'sts',
          irsaEnv,
          'STS AssumeRoleWithWebIdentity: fromWebIdentity() vs fromTokenFile()',
          'fromTokenFile',
        ],
      ]) {
        const run = (side) => runNode(SELF, ['--worker', `${target}-${side}`, '--opt', `n=${n}`], { env })
        const sdk = await run('sdk')
        const ours = await run('ours')
        if (ours.missing) {
          rows.push(
            row(SCENARIO, `${label}: p50 ms`, {
              ours: 'missing',
              sdk: sdk.p50,
              unit: 'ms',
              note: ours.missing,
            }),
          )
          continue
        }
        rows.push(
          row(SCENARIO, `${label}: p50`, {
            ours: ours.p50,
            sdk: sdk.p50,
            unit: 'ms',
            goal: 'side by side',
            met: ours.p50 <= sdk.p50,
            note: `${n} sequential fetches, one provider per side`,
          }),
          row(SCENARIO, `${label}: p99`, {
            ours: ours.p99,
            sdk: sdk.p99,
            unit: 'ms',
            goal: 'side by side',
            met: ours.p99 <= sdk.p99,
          }),
          row(SCENARIO, `${label}: first fetch in a fresh provider`, {
            ours: ours.firstMs,
            sdk: sdk.firstMs,
            unit: 'ms',
            goal: 'side by side',
            met: ours.firstMs <= sdk.firstMs,
            note: `includes each side's lazy loading on first use (${sdkName} vs ours)`,
          }),
        )
      }
    } finally {
      await emulator.close()
    }
  }
  emit(args.json, { name: SCENARIO, rows })
}
