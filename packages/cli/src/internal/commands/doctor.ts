import { parseArgs } from 'node:util'

import type { Env } from '@podcreds/core'
import { httpRequest, isCredentialsError, readEnv, redactKeyId } from '@podcreds/core'
import { inspectToken, readToken } from '@podcreds/token'
import { checkInstanceMetadata } from '../checkInstanceMetadata.js'
import type { Io } from '../output.js'
import { line, pairs, printJson, relative, style } from '../output.js'
import type { Problem, TokenPurpose } from '../tokenReport.js'
import { tokenProblems, tokenSummary } from '../tokenReport.js'

export const doctorHelp = `usage: podcreds doctor [--json]

Diagnoses how this pod (this environment) gets AWS credentials: the relevant environment, each
link of the default chain (env keys → web identity (IRSA) → container (EKS Pod Identity) → AWS
SDK profiles → instance metadata) and why it was chosen or skipped, whether this pod can reach an
instance role through IMDS, the projected tokens' claims, audience and expiry,
whether the agent and STS endpoints answer, the chosen source and the next refresh. Every problem
it detects is named with a fix. Secrets are never printed. Exits 1 when no credentials can be had.`

// Variables worth showing. Secret ones are shown as set/unset only.
const SHOWN_VARS = [
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_PROFILE',
  'AWS_ROLE_ARN',
  'AWS_ROLE_SESSION_NAME',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_STS_REGIONAL_ENDPOINTS',
  'AWS_ENDPOINT_URL_STS',
  'AWS_ENDPOINT_URL',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_EC2_METADATA_SERVICE_ENDPOINT',
  'PODCREDS_INSTANCE_METADATA',
  'AZURE_CLIENT_ID',
  'AZURE_TENANT_ID',
  'AZURE_AUTHORITY_HOST',
  'AZURE_FEDERATED_TOKEN_FILE',
] as const
const SECRET_VARS = [
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
] as const

interface TokenReport {
  purpose: TokenPurpose
  file: string
  claims?: Record<string, string>
  error?: string
}

interface EndpointReport {
  name: string
  url: string
  reachable: boolean
  detail: string
}

export async function doctor(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } },
    strict: true,
  })
  if (values.help) {
    line(io.stdout, doctorHelp)
    return 0
  }
  const env = io.env
  const now = Date.now()
  const problems: Problem[] = []
  const warnings: Problem[] = []

  const environment: Record<string, string> = {}
  for (const name of SHOWN_VARS) {
    const value = readEnv(env, name)
    if (value !== undefined) environment[name] = withoutUserInfo(value)
  }
  const keyId = readEnv(env, 'AWS_ACCESS_KEY_ID')
  if (keyId !== undefined) environment.AWS_ACCESS_KEY_ID = redactKeyId(keyId)
  for (const name of SECRET_VARS) {
    if (readEnv(env, name) !== undefined) environment[name] = '(set, hidden)'
  }

  const irsa =
    readEnv(env, 'AWS_WEB_IDENTITY_TOKEN_FILE') !== undefined || readEnv(env, 'AWS_ROLE_ARN') !== undefined
  const podIdentity =
    readEnv(env, 'AWS_CONTAINER_CREDENTIALS_FULL_URI') !== undefined ||
    readEnv(env, 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI') !== undefined
  if (irsa && podIdentity) {
    warnings.push({
      message:
        'both IRSA (AWS_ROLE_ARN / AWS_WEB_IDENTITY_TOKEN_FILE) and EKS Pod Identity (AWS_CONTAINER_CREDENTIALS_*) are set; web identity (IRSA) wins, as in the AWS SDKs',
      fix: 'remove the eks.amazonaws.com/role-arn annotation from the service account, or delete the Pod Identity association, so only one role applies',
    })
  }
  const region = readEnv(env, 'AWS_REGION') ?? readEnv(env, 'AWS_DEFAULT_REGION')
  if (region === undefined && irsa) {
    warnings.push({
      message:
        'no region (AWS_REGION / AWS_DEFAULT_REGION): STS calls go to us-east-1, which adds latency and fails where that region is disabled',
      fix: 'set AWS_REGION in the pod spec (the EKS webhook sets it for IRSA pods)',
    })
  }

  // Tokens: claims only, never the token.
  const tokens: TokenReport[] = []
  const tokenFiles: [string, TokenPurpose][] = [
    ['AWS_WEB_IDENTITY_TOKEN_FILE', 'irsa'],
    ['AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', 'pod-identity'],
    ['AZURE_FEDERATED_TOKEN_FILE', 'aks'],
  ]
  for (const [name, purpose] of tokenFiles) {
    const file = readEnv(env, name)
    if (file === undefined) continue
    try {
      const info = inspectToken(await readToken(file), { now })
      tokens.push({ purpose, file, claims: tokenSummary(info, now) })
      problems.push(...tokenProblems(info, purpose, file))
    } catch (error) {
      const message = isCredentialsError(error) ? error.message : 'unreadable'
      tokens.push({ purpose, file, error: message })
      problems.push({
        message: `${name}: ${message}`,
        fix:
          isCredentialsError(error) && error.code === 'ERR_TOKEN_INVALID'
            ? `${name} must name the projected service-account token (a JWT), not another file: check the variable and the volume's path`
            : 'check the projected volume mount (kubectl describe pod) and that the container user can read it',
      })
    }
  }

  // Endpoints: does something answer there? Any HTTP status counts as reachable.
  const endpoints: EndpointReport[] = []
  const { checkEndpoint } = await import('@podcreds/container')
  const agentUri =
    readEnv(env, 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI') !== undefined
      ? `http://169.254.170.2${readEnv(env, 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI')}`
      : readEnv(env, 'AWS_CONTAINER_CREDENTIALS_FULL_URI')
  if (agentUri !== undefined) {
    try {
      const url = checkEndpoint(agentUri)
      endpoints.push(await probe('Pod Identity agent', url))
    } catch (error) {
      endpoints.push({
        name: 'Pod Identity agent',
        url: '(invalid)',
        reachable: false,
        detail: String((error as Error).message),
      })
    }
  }
  if (irsa) {
    const { resolveStsEndpoint } = await import('@podcreds/web-identity')
    try {
      const resolved = resolveStsEndpoint({ env, ...(region === undefined ? {} : { region }) })
      endpoints.push(await probe('STS', resolved.url))
    } catch (error) {
      endpoints.push({
        name: 'STS',
        url: '(invalid)',
        reachable: false,
        detail: String((error as Error).message),
      })
    }
  }
  for (const endpoint of endpoints) {
    if (!endpoint.reachable) {
      problems.push({
        message: `${endpoint.name} at ${endpoint.url} does not answer: ${endpoint.detail}`,
        fix:
          endpoint.name === 'STS'
            ? 'check egress to STS (a VPC endpoint for sts, or HTTPS_PROXY/NO_PROXY), and network policies'
            : 'check that the eks-pod-identity-agent DaemonSet runs on this node (kubectl -n kube-system get ds eks-pod-identity-agent) and that network policies allow 169.254.170.23:80',
      })
    }
  }

  // AKS: Entra Workload ID, reported the same way (issue #12). Detected from the variables the
  // azure-workload-identity webhook injects.
  const azure = await diagnoseAzure(env, problems)

  // The chain: why each link was chosen or skipped, then one real resolve for the schedule.
  const { defaultChain, explain } = await import('@podcreds/chain')
  // One attempt at the container endpoint, so doctor stays fast on a node without an agent (issue 17).
  const once = { container: { maxAttempts: 1 } }
  const explanation = await explain({ env, ...once })
  let credentials: { accessKeyId: string; expiresAt?: string; nextRefreshAt?: string } | undefined
  let failure: string | undefined
  if (explanation.chosen !== undefined) {
    const provider = defaultChain({ env, ...once })
    try {
      const resolved = await provider()
      const stats = provider.stats()
      credentials = { accessKeyId: redactKeyId(resolved.accessKeyId) }
      if (resolved.expiration !== undefined) credentials.expiresAt = resolved.expiration.toISOString()
      if (stats.nextRefreshAt !== undefined)
        credentials.nextRefreshAt = new Date(stats.nextRefreshAt).toISOString()
    } catch (error) {
      failure = isCredentialsError(error) ? `${error.message} [${error.code}]` : 'unexpected error'
    } finally {
      provider.close()
    }
  } else {
    const failed = explanation.links.find((link) => link.status === 'failed')
    failure = failed === undefined ? 'no credential source is configured' : `${failed.name}: ${failed.reason}`
    // An AKS pod has no AWS source, and needs none.
    if (failed !== undefined || azure === undefined)
      problems.push(
        failed === undefined
          ? {
              message: 'no credential source is configured in this environment',
              fix:
                readEnv(env, 'AWS_PROFILE') === undefined
                  ? 'give the pod a service account with an EKS Pod Identity association or an eks.amazonaws.com/role-arn annotation (IRSA)'
                  : `AWS_PROFILE is ${readEnv(env, 'AWS_PROFILE')}, and the AWS SDK found no credentials for it: check that the profile exists in ${readEnv(env, 'AWS_CONFIG_FILE') ?? '~/.aws/config'}, or unset AWS_PROFILE; in a pod, give the service account an EKS Pod Identity association or an IRSA role`,
            }
          : {
              message: `the ${failed.name} link is configured but fails: ${failed.reason}`,
              fix: fixFor(failed.name, failed.reason),
            },
      )
  }

  // Issue 17: a pod that reaches IMDS reaches the node's role. (Findings shape of issue 21.)
  for (const finding of await checkInstanceMetadata(env)) {
    if (finding.severity === 'ok') continue
    ;(finding.severity === 'error' ? problems : warnings).push({
      message: finding.message,
      fix: finding.fix ?? '',
    })
  }

  const awsConfigured = explanation.links.some((link) => link.status !== 'skipped')
  const ok = credentials !== undefined || (!awsConfigured && azure?.token !== undefined)
  if (values.json) {
    printJson(io, {
      ok,
      chosen: explanation.chosen ?? null,
      credentials: credentials ?? null,
      failure: failure ?? null,
      azure: azure ?? null,
      links: explanation.links,
      environment,
      tokens,
      endpoints,
      problems,
      warnings,
    })
    return ok ? 0 : 1
  }

  const s = style(io)
  line(io.stdout, s.bold('environment'))
  line(
    io.stdout,
    Object.keys(environment).length === 0
      ? '  (no AWS or Azure variables set)'
      : pairs(Object.entries(environment)),
  )
  line(io.stdout)
  line(io.stdout, s.bold('chain'))
  for (const link of explanation.links) {
    const mark =
      link.status === 'chosen'
        ? s.green('chosen     ')
        : link.status === 'failed'
          ? s.red('failed     ')
          : link.status === 'skipped'
            ? s.dim('skipped    ')
            : s.dim('not reached')
    line(io.stdout, `  ${mark} ${link.name.padEnd(12)} ${link.reason}`)
  }
  for (const token of tokens) {
    line(io.stdout)
    line(io.stdout, s.bold(`token (${token.purpose}) ${token.file}`))
    line(
      io.stdout,
      token.claims === undefined
        ? `  ${s.red(token.error ?? 'unreadable')}`
        : pairs(Object.entries(token.claims)),
    )
  }
  if (endpoints.length > 0) {
    line(io.stdout)
    line(io.stdout, s.bold('endpoints'))
    for (const e of endpoints) {
      line(
        io.stdout,
        `  ${e.reachable ? s.green('reachable  ') : s.red('unreachable')} ${e.name.padEnd(20)} ${e.url}  ${s.dim(e.detail)}`,
      )
    }
  }
  if (azure !== undefined) {
    line(io.stdout)
    line(io.stdout, s.bold('azure (Entra Workload ID)'))
    line(
      io.stdout,
      `  ${azure.configured ? s.green('configured ') : s.yellow('incomplete ')} ${azure.reason}`,
    )
    line(io.stdout, pairs(Object.entries(azure.details)))
    if (azure.token !== undefined) {
      const rows: [string, string][] = [
        [
          'access token',
          `expires ${azure.token.expiresAt} (${relative(Date.parse(azure.token.expiresAt) - now)})`,
        ],
      ]
      if (azure.token.refreshAfter !== undefined) rows.push(['refresh after', azure.token.refreshAfter])
      line(io.stdout, pairs(rows))
    } else if (azure.error !== undefined) line(io.stdout, `  ${s.red(azure.error)}`)
  }
  line(io.stdout)
  if (credentials !== undefined) {
    line(io.stdout, s.bold('credentials'))
    const rows: [string, string][] = [
      ['source', explanation.chosen ?? '?'],
      ['access key', credentials.accessKeyId],
    ]
    if (credentials.expiresAt !== undefined) {
      rows.push([
        'expires',
        `${credentials.expiresAt} (${relative(Date.parse(credentials.expiresAt) - now)})`,
      ])
    }
    if (credentials.nextRefreshAt !== undefined) {
      rows.push([
        'next refresh',
        `${credentials.nextRefreshAt} (${relative(Date.parse(credentials.nextRefreshAt) - now)})`,
      ])
    }
    line(io.stdout, pairs(rows))
  } else if (!ok) {
    line(io.stdout, `${s.red('no credentials')}: ${failure ?? 'unknown'}`)
  } else {
    line(io.stdout, s.dim('no AWS source configured (an AKS pod): Azure credentials above'))
  }
  for (const w of warnings) {
    line(io.stdout)
    line(io.stdout, `${s.yellow('warning')} ${w.message}`)
    line(io.stdout, `  fix: ${w.fix}`)
  }
  for (const p of problems) {
    line(io.stdout)
    line(io.stdout, `${s.red('problem')} ${p.message}`)
    line(io.stdout, `  fix: ${p.fix}`)
  }
  if (problems.length === 0 && warnings.length === 0) {
    line(io.stdout)
    line(io.stdout, s.green('no problems found'))
  }
  return ok ? 0 : 1
}

interface AzureReport {
  configured: boolean
  reason: string
  details: Record<string, string>
  token?: { expiresAt: string; refreshAfter?: string }
  error?: string
}

const AZURE_VARS = ['AZURE_FEDERATED_TOKEN_FILE', 'AZURE_CLIENT_ID', 'AZURE_TENANT_ID'] as const
// The scope doctor asks a token for: Azure Resource Manager, which every workload identity may request.
const AZURE_PROBE_SCOPE = 'https://management.azure.com/.default'

async function diagnoseAzure(env: Env, problems: Problem[]): Promise<AzureReport | undefined> {
  if (!AZURE_VARS.some((name) => readEnv(env, name) !== undefined)) return undefined
  const { workloadIdentityCredential } = await import('@podcreds/azure')
  const credential = workloadIdentityCredential({ env })
  try {
    let description: Awaited<ReturnType<typeof credential.describe>>
    try {
      description = await credential.describe()
    } catch (error) {
      const message = isCredentialsError(error) ? error.message : 'cannot read the configuration'
      problems.push({
        message: `Azure workload identity: ${message}`,
        fix: 'check the azure-identity-token projected volume',
      })
      return { configured: true, reason: message, details: {}, error: message }
    }
    const report: AzureReport = {
      configured: description.configured,
      reason: description.reason,
      details: description.details,
    }
    if (!description.configured) {
      const missing = AZURE_VARS.filter((name) => readEnv(env, name) === undefined)
      problems.push({
        message: `Azure workload identity is half set up: ${missing.join(', ')} missing`,
        fix: 'label the pod azure.workload.identity/use: "true" and annotate its service account with azure.workload.identity/client-id, so the webhook injects all of AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE',
      })
      return report
    }
    if (description.details.warning !== undefined) {
      problems.push({
        message: `Azure workload identity: ${description.details.warning}`,
        fix: 'check the projected token volume and its audience api://AzureADTokenExchange',
      })
    }
    try {
      const token = await credential.getToken(AZURE_PROBE_SCOPE)
      report.token = { expiresAt: new Date(token.expiresOnTimestamp).toISOString() }
      if (token.refreshAfterTimestamp !== undefined) {
        report.token.refreshAfter = new Date(token.refreshAfterTimestamp).toISOString()
      }
    } catch (error) {
      report.error = isCredentialsError(error) ? `${error.message} [${error.code}]` : 'token request failed'
      problems.push({
        message: `Azure workload identity cannot get a token: ${report.error}`,
        fix: "check the federated identity credential of the app registration / managed identity: its issuer must be the cluster's OIDC issuer URL and its subject system:serviceaccount:<namespace>:<name>",
      })
    }
    return report
  } finally {
    credential.close()
  }
}

async function probe(name: string, url: URL): Promise<EndpointReport> {
  const where = `${url.protocol}//${url.host}`
  try {
    const response = await httpRequest(
      { url: new URL('/', url) },
      { timeoutMs: 2000, connectTimeoutMs: 1000 },
    )
    return { name, url: where, reachable: true, detail: `answered HTTP ${response.status}` }
  } catch (error) {
    return {
      name,
      url: where,
      reachable: false,
      detail: isCredentialsError(error) ? error.message : 'failed',
    }
  }
}

// A URL variable (AWS_CONTAINER_CREDENTIALS_FULL_URI, AWS_ENDPOINT_URL_STS, …) may carry
// `user:password@`; doctor prints the rest of it and never the user info (DESIGN "Secrets never
// leave"). A regex rather than `new URL()`, so a URL too broken to parse is masked as well.
const USER_INFO = /^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i

function withoutUserInfo(value: string): string {
  return value.replace(USER_INFO, '$1***@')
}

function fixFor(link: string, reason: string): string {
  switch (link) {
    case 'web-identity':
      return "check the role's trust policy (podcreds trust-policy lint), the token's audience (sts.amazonaws.com) and AWS_ROLE_ARN"
    case 'container':
      return 'check the Pod Identity association for this namespace/service account (aws eks list-pod-identity-associations) and the agent DaemonSet'
    case 'env':
      if (/AWS_CREDENTIAL_EXPIRATION/.test(reason))
        return 'set AWS_CREDENTIAL_EXPIRATION to an RFC 3339 date-time in the future (e.g. 2026-01-01T00:00:00Z), or unset it'
      return 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY together (and AWS_SESSION_TOKEN for temporary keys), or unset both'
    default:
      return 'run with AWS_PROFILE unset, or check ~/.aws/config'
  }
}
