// Issue 5 figure: `decodeToken()` of @podcreds/token vs decoding with jose directly
// (`decodeJwt`, and `decodeJwt` + `decodeProtectedHeader`, which is what decodeToken returns),
// on a realistic projected service-account token. mitata, in a child process.
import { realpathSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { decodeToken } from '../lib/podcreds.mjs'
import { BENCH_DIR, emit, row, runNode, scenarioArgs } from '../lib/util.mjs'

const SELF = fileURLToPath(import.meta.url)
const SCENARIO = '10. Token decode (issue 5)'

function serviceAccountToken() {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const now = 1_790_000_000
  const header = { alg: 'RS256', kid: 'bench-kid-0123456789abcdef' }
  const claims = {
    aud: ['sts.amazonaws.com'],
    exp: now + 86_400,
    iat: now,
    nbf: now,
    iss: 'https://oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF',
    sub: 'system:serviceaccount:payments:api',
    'kubernetes.io': {
      namespace: 'payments',
      node: { name: 'ip-10-0-1-23.ec2.internal', uid: '6a1f0c6e-3b1e-4b7e-9a59-7d5f7d6c1a11' },
      pod: { name: 'api-7d9c8b6f5-x2k4q', uid: 'c0ffee00-1234-4abc-8def-0123456789ab' },
      serviceaccount: { name: 'api', uid: '0f1e2d3c-4b5a-4978-8665-544332211000' },
      warnafter: now + 3_600,
    },
  }
  return `${b64(header)}.${b64(claims)}.${Buffer.alloc(256, 7).toString('base64url')}`
}

async function worker(quick) {
  const { measure, do_not_optimize } = await import('mitata')
  const r = await decodeToken()
  if (!r.value) return { missing: r.missing }
  const tokenDir = realpathSync(join(BENCH_DIR, 'node_modules', '@podcreds', 'token'))
  const joseEntry = createRequire(join(tokenDir, 'package.json')).resolve('jose')
  const jose = await import(pathToFileURL(joseEntry).href)
  const jwt = serviceAccountToken()
  const subjects = {
    ours: () => do_not_optimize(r.value(jwt)),
    joseClaims: () => do_not_optimize(jose.decodeJwt(jwt)),
    joseBoth: () => do_not_optimize([jose.decodeProtectedHeader(jwt), jose.decodeJwt(jwt)]),
  }
  const out = {}
  // Short rounds, the subjects interleaved, best p50 of each: a shared machine's noise (another
  // process, a frequency change) lasts longer than one round and hits whichever subject runs then.
  for (let round = 0; round < (quick ? 2 : 7); round++) {
    for (const [name, fn] of Object.entries(subjects)) {
      const s = await measure(fn, { min_cpu_time: (quick ? 40 : 150) * 1e6 })
      if (!out[name] || s.p50 < out[name]) out[name] = s.p50
    }
  }
  return out
}

const args = scenarioArgs()
if (args.worker) {
  emit(args.json, await worker(args.quick))
} else if (process.argv[1] === SELF) {
  const res = await runNode(SELF, ['--worker', 'decode', ...(args.quick ? ['--quick'] : [])])
  const rows = []
  if (res.missing) {
    rows.push(row(SCENARIO, 'decodeToken ns/op', { ours: 'missing', note: res.missing }))
  } else {
    rows.push(
      row(SCENARIO, 'decodeToken() vs jose decodeJwt() ns/op (p50)', {
        ours: res.ours,
        sdk: res.joseClaims,
        unit: 'ns',
        goal: '≤ 1.5× jose',
        met: res.ours <= 1.5 * res.joseClaims,
        note: `"SDK" column = jose 6 (the AWS SDK has no token decoder); jose decodeJwt + decodeProtectedHeader (same output as ours): ${res.joseBoth.toFixed(0)} ns`,
      }),
    )
  }
  emit(args.json, { name: SCENARIO, rows })
}
