import { isCredentialsError, scrub } from '@podcreds/core'
import type { Io } from './output.js'
import { line, UsageError } from './output.js'

export const HELP = `usage: podcreds <command> [options]

AWS credentials for Kubernetes pods (EKS Pod Identity and IRSA), done right.

Commands:
  demo                       start a local identity stack and resolve credentials through it
  doctor [--json]            diagnose this pod's credentials: each chain link, the token, endpoints
  credential-process         print credentials for the AWS CLI's credential_process [--cache]
  token inspect [file|-]     decode a projected service-account token and check it
  trust-policy generate      print an IRSA role trust policy (json or terraform)
  trust-policy lint <file>   find the known IRSA trust-policy weaknesses
  emulate                    run the local identity stack and print the env lines to export

Run 'podcreds help <command>' (or 'podcreds <command> --help') for a command's options.`

type Command = (args: string[], io: Io) => Promise<number>

// Each command is imported on demand: `credential-process` runs on every AWS CLI refresh and
// must load the chain path only, never the emulator.
const COMMANDS: Record<string, () => Promise<Command>> = {
  demo: async () => (await import('./commands/demo.js')).demo,
  doctor: async () => (await import('./commands/doctor.js')).doctor,
  'credential-process': async () => (await import('./commands/credentialProcess.js')).credentialProcess,
  token: async () => (await import('./commands/tokenInspect.js')).token,
  'trust-policy': async () => (await import('./commands/trustPolicy.js')).trustPolicy,
  emulate: async () => (await import('./commands/emulate.js')).emulate,
}

/** Runs the CLI; resolves to the exit code. Errors are printed as one line on stderr. */
export async function main(argv: string[], io: Io, version: string): Promise<number> {
  const [name, ...args] = argv
  if (name === undefined) {
    // A usage error: the help goes to stderr, so nothing on stdout looks like an answer.
    line(io.stderr, HELP)
    return 2
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    // `podcreds help doctor` is `podcreds doctor --help` (issue #21), as git and npm do.
    const topic = name === 'help' ? args[0] : undefined
    if (topic === undefined) {
      line(io.stdout, HELP)
      return 0
    }
    if (COMMANDS[topic] === undefined) {
      line(io.stderr, `podcreds help: unknown command '${topic}'. Run 'podcreds --help'.`)
      return 2
    }
    return await main([topic, '--help'], io, version)
  }
  if (name === '--version' || name === '-v') {
    line(io.stdout, version)
    return 0
  }
  const load = COMMANDS[name]
  if (load === undefined) {
    line(io.stderr, `podcreds: unknown command '${name}'. Run 'podcreds --help'.`)
    return 2
  }
  try {
    return await (await load())(args, io)
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      line(io.stderr, `podcreds ${name}: ${(error as Error).message}. Run 'podcreds ${name} --help'.`)
      return 2
    }
    if (isCredentialsError(error)) {
      // CredentialsError messages carry no secrets by contract.
      line(io.stderr, `podcreds ${name}: ${error.message} [${error.code}]`)
      return 1
    }
    // Not ours: its message is not known to be secret-free or single-line, so it is scrubbed of
    // control characters and capped.
    const message = scrub(error instanceof Error ? error.message : String(error), [], 300)
    line(io.stderr, `podcreds ${name}: unexpected error: ${message}`)
    return 1
  }
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')
}
