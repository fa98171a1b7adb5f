import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import type { Io } from '../output.js'
import { line, printJson, style, UsageError } from '../output.js'

export const trustPolicyHelp = `usage: podcreds trust-policy generate --issuer <url> --namespace <ns> --service-account <name>
                                     [--account <id>] [--format json|terraform]
       podcreds trust-policy lint <file> [--json] [--mode irsa|pod-identity]

generate  prints the IAM role trust policy for IRSA: the cluster's OIDC provider may assume the
          role only for that service account (StringEquals on :sub) and only with the STS
          audience (StringEquals on :aud). Without --account the Federated ARN carries a
          placeholder and stderr says so. --format terraform prints an aws_iam_role resource.
lint      checks a trust policy (JSON file, or - for stdin) for the known IRSA weaknesses:
          wildcard sub, missing aud, StringLike where StringEquals suffices, the wrong audience
          or principal for IRSA vs EKS Pod Identity. Exits 1 when it finds a problem.`

export async function trustPolicy(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args
  if (sub === undefined || sub === '--help' || sub === '-h') {
    line(io.stdout, trustPolicyHelp)
    return sub === undefined ? 2 : 0
  }
  if (sub === 'generate') return generate(rest, io)
  if (sub === 'lint') return lint(rest, io)
  throw new UsageError(`unknown trust-policy command '${sub}' (expected generate or lint)`)
}

async function generate(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      issuer: { type: 'string' },
      namespace: { type: 'string' },
      'service-account': { type: 'string' },
      account: { type: 'string' },
      format: { type: 'string', default: 'json' },
      name: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  })
  if (values.help) {
    line(io.stdout, trustPolicyHelp)
    return 0
  }
  for (const required of ['issuer', 'namespace', 'service-account'] as const) {
    if (values[required] === undefined) throw new UsageError(`trust-policy generate needs --${required}`)
  }
  if (values.format !== 'json' && values.format !== 'terraform') {
    throw new UsageError(`--format must be json or terraform, got '${values.format}'`)
  }
  if (values.account !== undefined && !/^\d{12}$/.test(values.account)) {
    throw new UsageError('--account must be a 12-digit AWS account id')
  }
  const { generateTrustPolicy } = await import('@podcreds/emulator')
  const policy = generateTrustPolicy({
    issuer: values.issuer as string,
    namespace: values.namespace as string,
    serviceAccount: values['service-account'] as string,
    ...(values.account === undefined ? {} : { accountId: values.account }),
  })
  if (values.account === undefined) {
    line(
      io.stderr,
      style(io).yellow(
        'note: no --account given; the Federated principal carries the placeholder <ACCOUNT_ID> — replace it with your account id',
      ),
    )
  }
  if (values.format === 'json') printJson(io, policy)
  else line(io.stdout, toTerraform(policy, values.name ?? `${values['service-account']}-irsa`))
  return 0
}

async function lint(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      json: { type: 'boolean', default: false },
      mode: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  })
  if (values.help) {
    line(io.stdout, trustPolicyHelp)
    return 0
  }
  const [file] = positionals
  if (file === undefined) throw new UsageError('trust-policy lint needs a file (or - for stdin)')
  if (values.mode !== undefined && values.mode !== 'irsa' && values.mode !== 'pod-identity') {
    throw new UsageError(`--mode must be irsa or pod-identity, got '${values.mode}'`)
  }
  let text: string
  try {
    text = file === '-' ? await readStream(io.stdin) : await readFile(file, 'utf8')
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'read failed'}`)
  }
  let policy: unknown
  try {
    policy = JSON.parse(text)
  } catch {
    throw new UsageError(`${file} is not valid JSON`)
  }
  const { lintTrustPolicy } = await import('@podcreds/emulator')
  const findings = lintTrustPolicy(policy, values.mode === undefined ? {} : { mode: values.mode })
  if (values.json) printJson(io, { file, findings })
  else {
    const s = style(io)
    if (findings.length === 0) line(io.stdout, s.green(`${file}: no problems found`))
    for (const finding of findings) {
      const mark = finding.severity === 'error' ? s.red('error  ') : s.yellow('warning')
      const where = finding.statement >= 0 ? ` (Statement[${finding.statement}])` : ''
      line(io.stdout, `${mark} ${s.bold(finding.code)}${where}: ${finding.message}`)
      line(io.stdout, `  fix: ${finding.fix}`)
    }
  }
  return findings.length > 0 ? 1 : 0
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer))
  return Buffer.concat(chunks).toString('utf8')
}

/** An `aws_iam_role` resource whose assume_role_policy is the policy, as HCL `jsonencode`. */
function toTerraform(policy: unknown, name: string): string {
  const resource = name.replace(/[^A-Za-z0-9_]/g, '_')
  return `resource "aws_iam_role" "${resource}" {
  name = ${JSON.stringify(name)}

  assume_role_policy = jsonencode(${hcl(policy, '  ')})
}`
}

function hcl(value: unknown, indent: string): string {
  const inner = `${indent}  `
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]'
    return `[\n${value.map((v) => `${inner}${hcl(v, inner)}`).join(',\n')}\n${indent}]`
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
    if (entries.length === 0) return '{}'
    const key = (k: string): string => (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(k) ? k : JSON.stringify(k))
    return `{\n${entries.map(([k, v]) => `${inner}${key(k)} = ${hcl(v, inner)}`).join('\n')}\n${indent}}`
  }
  return JSON.stringify(value)
}
