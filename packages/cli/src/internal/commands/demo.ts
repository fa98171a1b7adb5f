import { parseArgs } from 'node:util'
import type { Env } from '@podcreds/core'
import { redactKeyId } from '@podcreds/core'
import type { AwsCredentialIdentityProvider } from '@smithy/types'
import type { Io } from '../output.js'
import { line, pairs, printJson, relative, style } from '../output.js'

export const demoHelp = `usage: podcreds demo [--json]

Starts the podcreds emulator (a local EKS identity stack on 127.0.0.1), then, for a pod with an
EKS Pod Identity association and for a pod with IRSA, resolves credentials through
defaultChain() and calls AWS STS GetCallerIdentity with the real AWS SDK client against the
emulator's SigV4-verifying endpoint. Then a cross-account hop from the Pod Identity pod:
refreshing(fromAssumeRole({ source: <the pod's chain>, roleArn })) into the emulator's role in
account 444455556666, proven by the same GetCallerIdentity call. Prints which chain link
answered, the key id (redacted), the expiry and the refresh schedule. Nothing leaves this machine.`

interface PodResult {
  pod: string
  link: string | undefined
  accessKeyId: string
  expiresAt: string | undefined
  nextRefreshAt: string | undefined
  callerArn: string | undefined
  account: string | undefined
  tookMs: number
}

/** The cross-account hop (issue 19): fromAssumeRole over a pod's chain, behind refreshing(). */
interface HopResult extends Omit<PodResult, 'pod' | 'link'> {
  /** The pod whose chain signed AssumeRole. */
  from: string
  roleArn: string
}

// The emulator's default role in another account, trusting both pod roles (issue 19).
const CROSS_ACCOUNT_ROLE = /^arn:aws:iam::\d{12}:role\/podcreds-demo-cross-account$/

export async function demo(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  })
  if (values.help) {
    line(io.stdout, demoHelp)
    return 0
  }
  const s = style(io)
  const started = performance.now()
  // The AWS SDK warns on load that Node 20 support ends; the demo's point is elsewhere. A user's
  // own setting wins.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const [
    { startEmulator },
    { defaultChain, explain },
    { refreshing },
    { fromAssumeRole },
    { STSClient, GetCallerIdentityCommand },
  ] = await Promise.all([
    import('@podcreds/emulator'),
    import('@podcreds/chain'),
    import('@podcreds/refresh'),
    import('@podcreds/sts'),
    import('@aws-sdk/client-sts'),
  ])
  const emulator = await startEmulator()
  const results: PodResult[] = []
  let hop: HopResult | undefined
  /** STS GetCallerIdentity through the real AWS SDK client, against the SigV4-verifying endpoint. */
  const callerOf = async (
    env: Env,
    credentials: AwsCredentialIdentityProvider,
  ): Promise<{ Arn?: string; Account?: string }> => {
    const sts = new STSClient({
      region: env.AWS_REGION ?? 'us-east-1',
      endpoint: emulator.awsUrl,
      credentials,
    })
    return sts.send(new GetCallerIdentityCommand({})).finally(() => sts.destroy())
  }
  const schedule = (nextRefreshAt: Date | undefined): string | undefined => nextRefreshAt?.toISOString()
  try {
    if (!values.json) {
      line(
        io.stdout,
        s.bold('podcreds demo — a local EKS identity stack on 127.0.0.1, nothing leaves this machine'),
      )
      line(io.stdout, s.dim(`  agent ${emulator.agentUrl}  sts ${emulator.stsUrl}  aws ${emulator.awsUrl}`))
    }
    const pods: [string, Env][] = [
      ['EKS Pod Identity', emulator.env],
      ['IRSA', emulator.irsaEnv],
    ]
    for (const [pod, env] of pods) {
      const t0 = performance.now()
      const provider = defaultChain({ env, sdkFallback: false })
      try {
        const credentials = await provider()
        const explanation = await explain({ env, sdkFallback: false, dryRun: true })
        const identity = await callerOf(env, provider)
        results.push({
          pod,
          link: explanation.chosen,
          accessKeyId: redactKeyId(credentials.accessKeyId),
          expiresAt: credentials.expiration?.toISOString(),
          nextRefreshAt: schedule(provider.stats().nextRefreshAt),
          callerArn: identity.Arn,
          account: identity.Account,
          tookMs: Math.round(performance.now() - t0),
        })
        // Issue 19: a Pod Identity association can only use a role of the cluster's own account;
        // another account is reached by AssumeRole signed with the pod's credentials.
        const roleArn = emulator.roleArns.find((arn) => CROSS_ACCOUNT_ROLE.test(arn))
        if (hop === undefined && roleArn !== undefined) {
          const h0 = performance.now()
          const crossAccount = refreshing(fromAssumeRole({ source: provider, roleArn, env }))
          try {
            const assumed = await crossAccount()
            const caller = await callerOf(env, crossAccount)
            hop = {
              from: pod,
              roleArn,
              accessKeyId: redactKeyId(assumed.accessKeyId),
              expiresAt: assumed.expiration?.toISOString(),
              nextRefreshAt: schedule(crossAccount.stats().nextRefreshAt),
              callerArn: caller.Arn,
              account: caller.Account,
              tookMs: Math.round(performance.now() - h0),
            }
          } finally {
            crossAccount.close()
          }
        }
      } finally {
        provider.close()
      }
    }
  } finally {
    await emulator.close()
  }
  const totalMs = Math.round(performance.now() - started)
  if (values.json) {
    printJson(io, { pods: results, crossAccount: hop ?? null, totalMs })
    return 0
  }
  const now = Date.now()
  const facts = (r: Omit<PodResult, 'pod' | 'link'>): [string, string][] => [
    ['access key', r.accessKeyId],
    [
      'expires',
      r.expiresAt === undefined ? 'never' : `${r.expiresAt} (${relative(Date.parse(r.expiresAt) - now)})`,
    ],
    [
      'next refresh',
      r.nextRefreshAt === undefined
        ? '—'
        : `${r.nextRefreshAt} (${relative(Date.parse(r.nextRefreshAt) - now)}, jittered, in the background)`,
    ],
    [
      'AWS says',
      `${r.callerArn ?? '?'} ${s.dim('(STS GetCallerIdentity, real AWS SDK client, SigV4 checked)')}`,
    ],
    ['took', `${r.tookMs} ms`],
  ]
  for (const r of results) {
    line(io.stdout)
    line(io.stdout, s.bold(`${r.pod} pod`))
    line(io.stdout, pairs([['chain picked', r.link ?? '(none)'], ...facts(r)]))
  }
  if (hop !== undefined) {
    line(io.stdout)
    line(io.stdout, s.bold(`Cross-account hop from the ${hop.from} pod`))
    line(
      io.stdout,
      pairs([
        ['provider', "refreshing(fromAssumeRole({ source: <the pod's chain>, roleArn }))"],
        ['role', hop.roleArn],
        ...facts(hop),
      ]),
    )
  }
  line(io.stdout)
  line(
    io.stdout,
    s.green(`done in ${totalMs} ms.`) +
      ' Next: `podcreds emulate` to point your own tools at it, `podcreds doctor` inside a pod.',
  )
  return 0
}
