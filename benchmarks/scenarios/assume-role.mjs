// 11. AssumeRole (issue 19): podcreds `fromAssumeRole()` beside the AWS SDK's
// `fromTemporaryCredentials()` (`@aws-sdk/credential-providers`), both signing STS AssumeRole for
// the emulator's cross-account role with the same Pod Identity credentials (fetched once, so the
// hop alone is measured): first fetch in a fresh provider (lazy loading included), p50/p99 of N
// sequential uncached calls, import time of each path in fresh processes, and install footprint.
import { fileURLToPath } from 'node:url'
import { startBenchEmulator } from '../lib/emulator-env.mjs'
import { footprint } from '../lib/footprint.mjs'
import { fromAssumeRole, fromContainer } from '../lib/podcreds.mjs'
import { BENCH_DIR, emit, median, percentile, row, runNode, scenarioArgs } from '../lib/util.mjs'

const SELF = fileURLToPath(import.meta.url)
const SCENARIO = '11. AssumeRole'
const ROLE_ARN = 'arn:aws:iam::444455556666:role/podcreds-demo-cross-account'

async function importWorker(side) {
  const t0 = performance.now()
  if (side === 'ours') await import('@podcreds/sts')
  else await import('@aws-sdk/credential-providers')
  return { importMs: performance.now() - t0 }
}

async function worker(side, n) {
  const pod = await fromContainer()
  if (!pod.value) return { missing: pod.missing }
  const podCredentials = await pod.value()()
  const source = async () => podCredentials
  let provider
  const import0 = performance.now()
  if (side === 'ours') {
    const r = await fromAssumeRole()
    if (!r.value) return { missing: r.missing }
    provider = r.value({ source, roleArn: ROLE_ARN, roleSessionName: 'bench' })
  } else {
    const { fromTemporaryCredentials } = await import('@aws-sdk/credential-providers')
    provider = fromTemporaryCredentials({
      masterCredentials: source,
      params: { RoleArn: ROLE_ARN, RoleSessionName: 'bench' },
      clientConfig: { region: process.env.AWS_REGION },
    })
  }
  const first0 = performance.now()
  const importMs = first0 - import0
  const c = await provider()
  const firstMs = performance.now() - first0
  if (!c.accessKeyId || c.accessKeyId === podCredentials.accessKeyId)
    throw new Error('no assumed-role credentials')
  for (let i = 0; i < 5; i++) await provider()
  const samples = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await provider()
    samples.push(performance.now() - t0)
  }
  samples.sort((a, b) => a - b)
  return { importMs, firstMs, p50: percentile(samples, 50), p99: percentile(samples, 99), n }
}

const args = scenarioArgs()
if (args.worker) {
  const [kind, side] = args.worker.split('-')
  emit(args.json, kind === 'import' ? await importWorker(side) : await worker(side, Number(args.opts.n)))
  process.exit(0)
} else if (process.argv[1] === SELF) {
  const n = args.quick ? 40 : 400
  const imports = args.quick ? 2 : 7
  const rows = []
  const { emulator, podEnv, missing } = await startBenchEmulator()
  if (!emulator) {
    rows.push(row(SCENARIO, 'AssumeRole', { ours: 'missing', sdk: 'missing', note: missing }))
  } else {
    try {
      const run = (side) => runNode(SELF, ['--worker', `fetch-${side}`, '--opt', `n=${n}`], { env: podEnv })
      const sdk = await run('sdk')
      const ours = await run('ours')
      if (ours.missing) {
        rows.push(
          row(SCENARIO, 'AssumeRole p50', { ours: 'missing', sdk: sdk.p50, unit: 'ms', note: ours.missing }),
        )
      } else {
        rows.push(
          row(SCENARIO, 'AssumeRole: fromAssumeRole() vs fromTemporaryCredentials(): p50', {
            ours: ours.p50,
            sdk: sdk.p50,
            unit: 'ms',
            goal: 'side by side',
            met: ours.p50 <= sdk.p50,
            note: `${n} sequential signed AssumeRole calls against the emulator, one provider per side, same source credentials`,
          }),
          row(SCENARIO, 'AssumeRole: p99', {
            ours: ours.p99,
            sdk: sdk.p99,
            unit: 'ms',
            goal: 'side by side',
            met: ours.p99 <= sdk.p99,
          }),
          row(SCENARIO, 'AssumeRole: first fetch in a fresh provider', {
            ours: ours.firstMs,
            sdk: sdk.firstMs,
            unit: 'ms',
            goal: 'side by side',
            met: ours.firstMs <= sdk.firstMs,
            note: 'includes each side’s lazy loading: ours loads @smithy/signature-v4 (with parts of @smithy/core) and the XML parser here, which the SDK loaded at import',
          }),
          row(SCENARIO, 'AssumeRole: import + first fetch in a fresh process', {
            ours: ours.importMs + ours.firstMs,
            sdk: sdk.importMs + sdk.firstMs,
            unit: 'ms',
            goal: 'side by side',
            met: ours.importMs + ours.firstMs <= sdk.importMs + sdk.firstMs,
            note: 'what a process waits for before its first cross-account credentials',
          }),
        )
        const times = { ours: [], sdk: [] }
        for (let i = 0; i < imports; i++) {
          for (const side of i % 2 === 0 ? ['sdk', 'ours'] : ['ours', 'sdk']) {
            times[side].push((await runNode(SELF, ['--worker', `import-${side}`], { env: podEnv })).importMs)
          }
        }
        rows.push(
          row(SCENARIO, 'import time of the path (median of fresh processes)', {
            ours: median(times.ours),
            sdk: median(times.sdk),
            unit: 'ms',
            goal: '≤ 1/3 of SDK',
            met: median(times.ours) * 3 <= median(times.sdk),
            note: `${imports} runs each; @podcreds/sts vs @aws-sdk/credential-providers`,
          }),
        )
      }
      const o = footprint('@podcreds/sts', BENCH_DIR)
      const s = footprint('@aws-sdk/credential-providers', BENCH_DIR)
      const top = (f) => f.largest.map(([id, b]) => `${id} ${(b / 1e6).toFixed(1)} MB`).join(', ')
      rows.push(
        row(SCENARIO, 'install footprint, AssumeRole: packages', {
          ours: o.packages,
          sdk: s.packages,
          goal: '≤ 1/3 of SDK',
          met: o.packages * 3 <= s.packages,
          note: '@podcreds/sts vs @aws-sdk/credential-providers',
        }),
        row(SCENARIO, 'install footprint, AssumeRole: bytes', {
          ours: o.bytes / 1e6,
          sdk: s.bytes / 1e6,
          unit: 'MB',
          goal: '≤ 1/3 of SDK',
          met: o.bytes * 3 <= s.bytes,
          note: `largest: ours ${top(o)}; SDK ${top(s)}`,
        }),
      )
    } finally {
      await emulator.close()
    }
  }
  emit(args.json, { name: SCENARIO, rows })
}
