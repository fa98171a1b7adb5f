import { parseArgs } from 'node:util'
import type { Io } from '../output.js'
import { line, printJson, style } from '../output.js'

export const emulateHelp = `usage: podcreds emulate [--json] [--pod pod-identity|irsa]

Runs the local identity stack (Pod Identity agent, STS, OIDC issuer, kubelet-style token files,
a SigV4-verifying AWS endpoint) on 127.0.0.1 until stopped, and prints the environment of a pod
as export lines on stdout (everything else goes to stderr), so any SDK — podcreds, the AWS SDK,
the AWS CLI — runs against it:

  eval "$(podcreds emulate --pod irsa &)"   # runs in the background; this shell is now the pod
  aws sts get-caller-identity               # AWS_ENDPOINT_URL_STS points at the emulator
  kill $PODCREDS_EMULATOR_PID               # stops it and removes its token files

When stdout is not a terminal it is closed after the export lines, so the command substitution
returns while the emulator runs on. --json prints both pods' environments and the endpoint URLs
as one JSON object instead.`

export async function emulate(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: 'boolean', default: false },
      pod: { type: 'string', default: 'pod-identity' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  })
  if (values.help) {
    line(io.stdout, emulateHelp)
    return 0
  }
  if (values.pod !== 'pod-identity' && values.pod !== 'irsa') {
    const { UsageError } = await import('../output.js')
    throw new UsageError(`--pod must be pod-identity or irsa, got '${values.pod}'`)
  }
  // Listen for the stop signal before anything is printed: a supervisor may send it as soon as it
  // has read the env lines.
  const stopped = new Promise<void>((resolve) => {
    const stop = (): void => resolve()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  const { startEmulator } = await import('@podcreds/emulator')
  const emulator = await startEmulator()
  const s = style(io)
  if (values.json) {
    printJson(io, {
      agentUrl: emulator.agentUrl,
      stsUrl: emulator.stsUrl,
      issuerUrl: emulator.issuerUrl,
      awsUrl: emulator.awsUrl,
      imdsUrl: emulator.imdsUrl,
      env: emulator.env,
      irsaEnv: emulator.irsaEnv,
    })
  } else {
    const env = values.pod === 'irsa' ? emulator.irsaEnv : emulator.env
    // Prose on stderr, export lines on stdout: `eval "$(podcreds emulate &)"` evaluates only the
    // exports (issue #21), and the prose does not point at lines printed elsewhere.
    line(
      io.stderr,
      s.bold(
        `podcreds emulator running (${values.pod} pod, pid ${process.pid}); stop it with: kill ${process.pid}`,
      ),
    )
    line(io.stderr, `  agent ${emulator.agentUrl}  sts ${emulator.stsUrl}  aws ${emulator.awsUrl}`)
    // Issue 17: the pod meets the node's IMDS too, as on a node that does not block it.
    line(
      io.stderr,
      `  imds ${emulator.imdsUrl} (node role ${emulator.instanceRoleArn}; podcreds doctor finds it)`,
    )
    line(
      io.stderr,
      '  with its export lines (stdout) loaded into your shell, try: aws sts get-caller-identity',
    )
    for (const [name, value] of Object.entries(env)) {
      if (value !== undefined) line(io.stdout, `export ${name}=${shellQuote(value)}`)
    }
    line(io.stdout, `export PODCREDS_EMULATOR_PID=${process.pid}`)
  }
  await releaseStdout(io)
  await stopped
  await emulator.close()
  return 0
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`
}

/**
 * Ends stdout once everything is printed, when it is a pipe or a file: a shell's command
 * substitution (`eval "$(podcreds emulate &)"`) reads until every writer has closed it, and the
 * emulator keeps running. Node never closes fd 1 itself, so it is closed here and /dev/null opened
 * in its place at once (it takes the lowest free descriptor, 1), so nothing else the emulator opens
 * becomes "stdout". A terminal stays open.
 */
async function releaseStdout(io: Io): Promise<void> {
  if (io.stdout !== process.stdout || process.stdout.isTTY === true) return
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()))
  const { closeSync, openSync } = await import('node:fs')
  try {
    closeSync(1)
    openSync('/dev/null', 'w')
  } catch {
    // Not closable here (a platform without /dev/null): the substitution then waits, as before.
  }
}
