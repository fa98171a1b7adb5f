import { parseArgs } from 'node:util'
import { isCredentialsError, readEnv } from '@podcreds/core'
import { inspectToken, readToken } from '@podcreds/token'
import type { Io } from '../output.js'
import { line, pairs, printJson, style, UsageError } from '../output.js'
import type { TokenPurpose } from '../tokenReport.js'
import { tokenProblems, tokenReadProblem, tokenSummary } from '../tokenReport.js'

export const tokenHelp = `usage: podcreds token inspect [file|-] [--json] [--purpose irsa|pod-identity|aks]

Decodes a projected service-account token (without verifying it) and prints its claims: issuer,
subject, audiences, service account, pod, node, issue and expiry times, when kubelet rotates it —
never the token itself. Without a file it inspects $AWS_WEB_IDENTITY_TOKEN_FILE, else
$AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, else $AZURE_FEDERATED_TOKEN_FILE. Exits 1 when the
token is expired or has the wrong audience for --purpose.`

export async function token(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args
  if (sub === '--help' || sub === '-h' || sub === undefined) {
    line(io.stdout, tokenHelp)
    return sub === undefined ? 2 : 0
  }
  if (sub !== 'inspect') throw new UsageError(`unknown token command '${sub}' (expected inspect)`)
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      json: { type: 'boolean', default: false },
      purpose: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  })
  if (values.help) {
    line(io.stdout, tokenHelp)
    return 0
  }
  const purpose = values.purpose
  if (purpose !== undefined && purpose !== 'irsa' && purpose !== 'pod-identity' && purpose !== 'aks') {
    throw new UsageError(`--purpose must be irsa, pod-identity or aks, got '${purpose}'`)
  }
  const defaults: [string, TokenPurpose][] = [
    ['AWS_WEB_IDENTITY_TOKEN_FILE', 'irsa'],
    ['AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', 'pod-identity'],
    ['AZURE_FEDERATED_TOKEN_FILE', 'aks'],
  ]
  let file = positionals[0]
  let inferred: TokenPurpose | undefined
  if (file === undefined) {
    for (const [name, p] of defaults) {
      const value = readEnv(io.env, name)
      if (value !== undefined) {
        file = value
        inferred = p
        break
      }
    }
  }
  if (file === undefined) {
    throw new UsageError(
      'no token file given, and none of AWS_WEB_IDENTITY_TOKEN_FILE, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, AZURE_FEDERATED_TOKEN_FILE is set',
    )
  }
  const now = Date.now()
  let info: ReturnType<typeof inspectToken>
  try {
    const jwt = file === '-' ? await readStdin(io.stdin) : await readToken(file)
    info = inspectToken(jwt, { now })
  } catch (error) {
    // --json promises one object: an unreadable or undecodable token is a problem in it.
    if (!values.json || !isCredentialsError(error)) throw error
    printJson(io, {
      file,
      claims: null,
      remainingMs: null,
      expired: null,
      problems: [tokenReadProblem(error.code, error.message, file === '-' ? 'stdin' : file)],
    })
    return 1
  }
  const summary = tokenSummary(info, now)
  const problems = tokenProblems(
    info,
    (purpose as TokenPurpose | undefined) ?? inferred,
    file === '-' ? 'stdin' : file,
  )
  if (values.json) {
    printJson(io, {
      file,
      claims: summary,
      remainingMs: info.remainingMs ?? null,
      expired: info.expired,
      problems,
    })
  } else {
    const s = style(io)
    line(io.stdout, s.bold(`token ${file === '-' ? '(stdin)' : file}`))
    line(io.stdout, pairs(Object.entries(summary)))
    for (const problem of problems) {
      line(io.stdout, `${s.red('problem')} ${problem.message}`)
      line(io.stdout, `  fix: ${problem.fix}`)
    }
    if (problems.length === 0) line(io.stdout, s.green('no problems found'))
  }
  return problems.length === 0 ? 0 : 1
}

async function readStdin(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer))
  const text = Buffer.concat(chunks).toString('utf8').trim()
  if (text === '') throw new UsageError('no token on stdin')
  return text
}
