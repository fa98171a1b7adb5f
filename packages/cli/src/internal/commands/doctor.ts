import { parseArgs } from 'node:util'
import { DEFAULT_SERVICE_ACCOUNT_DIR } from '../doctor/readPod.js'
import { renderDoctor } from '../doctor/renderDoctor.js'
import { reportJson } from '../doctor/reportJson.js'
import { runDoctor } from '../doctor/runDoctor.js'
import type { Io } from '../output.js'
import { line, printJson } from '../output.js'

export const doctorHelp: string = `usage: podcreds doctor [--json] [--service-account-dir <dir>]

Diagnoses how this pod (this environment) gets AWS credentials. A list of small checks, each
giving findings (ok, warning or error, with a fix for what to do): whether this runs in a pod and
as which service account, the environment, the projected tokens (claims, audience, expiry —
never the token), one walk of the default chain (env keys → web identity (IRSA) → container
(EKS Pod Identity) → AWS SDK profiles → instance metadata) with the cause of a failure and its
fix, in a pod whether the node's instance role is reachable through IMDS, Entra Workload ID on
AKS. It resolves credentials once, with one attempt per endpoint, and every probe is bounded in
time. Secrets are never printed. Exits 1 when a finding is an error.

Options:
  --json                       the findings and facts as one JSON object
  --service-account-dir <dir>  where the pod's service-account files are
                               (default ${DEFAULT_SERVICE_ACCOUNT_DIR})
  -h, --help                   this text`

export async function doctor(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: 'boolean', default: false },
      'service-account-dir': { type: 'string', default: DEFAULT_SERVICE_ACCOUNT_DIR },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  })
  if (values.help) {
    line(io.stdout, doctorHelp)
    return 0
  }
  const report = await runDoctor({
    env: io.env,
    now: Date.now(),
    serviceAccountDir: values['service-account-dir'],
  })
  const failed = report.findings.some((finding) => finding.severity === 'error')
  if (values.json) printJson(io, reportJson(report))
  else renderDoctor(report, io)
  // Every probe is bounded, but what a probe left behind may not be: a socket a hung endpoint
  // never closes, a read of a file that never ends. The report is out (stdout is synchronous for
  // files and pipes on Linux), so once nothing else of ours runs, the process may not wait for
  // those. The timer is unref'd: it fires only if something else holds the process open.
  if (io.stdout === process.stdout) setTimeout(() => process.exit(), 1_000).unref()
  return failed ? 1 : 0
}
